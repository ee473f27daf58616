"""Wall time and peak memory of ``build_arpa`` on a generated corpus as it grows (issue 12).

The corpus is the one ``make_big_lm.py`` draws (Zipf, s = 1.05, over the 50k most probable
real words of ``../shared/data/librispeech-lm/3-gram.pruned.arpa``; sentences of 4 to 30
words; seed 0), written as text, one sentence per line, ``4.8 M * scale`` words. Each build
runs in a fresh Python process; its wall time and peak RSS (``ru_maxrss`` of that process,
interpreter and numpy included, VmHWM of the child, not ru_maxrss, which on Linux also
counts the parent's RSS at fork) are reported, once per ``--memory`` budget (the builds of one
corpus must write the same bytes whatever the budget; the script checks it). KenLM's
``lmplz -o ORDER -S 2G --discount_fallback`` is timed on the same text when it is found (``--lmplz PATH``, else
``$LMPLZ``, else ``lmplz`` on PATH; without it the column is skipped with a message), and its
ARPA is compared with ours: same n-grams, largest difference of the log10 probabilities and
backoffs (``<s>``'s probability excepted: lmplz writes 0, we write -99). ``--old`` also times
another implementation on the corpus of the first scale and checks both wrote the same bytes:
a ``build.py`` file, or a folder holding a former ``lm/`` package
(``mkdir /tmp/old && git archive HEAD~1 lm | tar -x -C /tmp/old``, then ``--old /tmp/old/lm``).

    .venv/bin/python benchmarks/bench_build_arpa.py                       # 4.8 M words, order 4
    .venv/bin/python benchmarks/bench_build_arpa.py --scale 1 4 --memory 1G 256M
    .venv/bin/python benchmarks/bench_build_arpa.py --words 1200000 --old /tmp/old/lm

Corpora and models go to ``--folder`` (default: a temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import make_big_lm

CHILD = r"""
import importlib, importlib.util, json, resource, sys, time, types
from pathlib import Path
corpus, output, order, module, memory = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
options = {} if memory == "-" else {"memory": memory}
if module == "-":
    from ctcdecode_kit.lm import build_arpa
elif Path(module).is_dir():  # a former lm/ package: its build.py with its own relative imports
    import ctcdecode_kit.lm
    package = types.ModuleType("ctcdecode_kit.lm._bench_old")
    package.__path__ = [module]
    sys.modules[package.__name__] = package
    build_arpa = importlib.import_module(package.__name__ + ".build").build_arpa
else:
    spec = importlib.util.spec_from_file_location("ctcdecode_kit.lm._bench_build", module)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    build_arpa = mod.build_arpa
start = time.perf_counter()
stats = build_arpa(Path(corpus), output, order=order, **options)
seconds = time.perf_counter() - start
# VmHWM: the peak of this image since exec (ru_maxrss would also count the parent's RSS at fork)
status = Path("/proc/self/status")
hwm = [line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM:")] if status.exists() else []
rss = int(hwm[0]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "rss": rss, "counts": list(stats.counts)}))
"""


def write_corpus(path: Path, words: int, vocabulary: int, seed: int) -> None:
    """Write ``words`` Zipfian words as sentences, one per line (make_big_lm's generator)."""
    vocab = ["<s>", "</s>", *make_big_lm.real_words(make_big_lm.DEFAULT_SOURCE, vocabulary)]
    ids = make_big_lm.corpus(vocabulary, words, seed)
    ends = (ids == 1).nonzero()[0]
    starts = [0, *(ends[:-1] + 1).tolist()]
    with path.open("w", encoding="utf-8") as out:
        for a, b in zip(starts, ends.tolist()):
            out.write(" ".join([vocab[i] for i in ids[a + 1 : b].tolist()]))
            out.write("\n")


def run_build(corpus: Path, output: Path, order: int, module: str = "-", memory: str = "-") -> dict:
    """build_arpa in a fresh process: seconds, peak RSS in bytes, n-gram counts."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus), str(output), str(order), module, memory],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"build_arpa ({module}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def find_lmplz(option: str | None) -> str | None:
    """``--lmplz``, else ``$LMPLZ``, else ``lmplz`` on PATH (None when none is there)."""
    for candidate in (option, os.environ.get("LMPLZ"), shutil.which("lmplz")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def run_lmplz(lmplz: str, corpus: Path, output: Path, order: int) -> dict:
    """``lmplz -o ORDER -S 2G --discount_fallback`` on the same text: seconds and peak RSS.

    ``--discount_fallback`` is build_arpa's behaviour (and the same fallback discounts): from
    19.2 M words on, every word of this corpus follows two or more others, so lmplz cannot
    compute unigram discounts without it; it changes nothing where they can be computed.
    """
    # a fresh wrapper process, so that its RUSAGE_CHILDREN holds lmplz alone
    wrapper = (
        "import resource, subprocess, sys, time; start = time.perf_counter(); "
        "subprocess.run(sys.argv[1:4] + ['-S', '2G', '--discount_fallback'], stdin=open(sys.argv[4], 'rb'), "
        "stdout=open(sys.argv[5], 'wb'), stderr=subprocess.DEVNULL, check=True); "
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, lmplz, "-o", str(order), str(corpus), str(output)],
                          capture_output=True, text=True, check=True)
    seconds, rss = done.stdout.split()
    return {"seconds": float(seconds), "rss": int(rss)}


def arpa_records(path: Path, out: Path) -> None:
    """Write ``order TAB n-gram TAB log10 p TAB log10 backoff`` per n-gram, sorted (C locale) by the first two."""
    unsorted = out.with_suffix(".unsorted")
    with path.open(encoding="utf-8") as f, unsorted.open("w", encoding="utf-8") as w:
        order = 0
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("\\") and line.endswith("-grams:"):
                order = int(line[1:].split("-")[0])
            elif order and line and not line.startswith("\\"):
                fields = line.split("\t")
                backoff = fields[2] if len(fields) > 2 else "0"
                w.write(f"{order}\t{fields[1]}\t{fields[0]}\t{backoff}\n")
    subprocess.run(["sort", "-t", "\t", "-k1,2", "-S", "512M", "-o", str(out), str(unsorted)],
                   env={**os.environ, "LC_ALL": "C"}, check=True)
    unsorted.unlink()


def compare_arpa(ours: Path, theirs: Path, folder: Path) -> dict:
    """Same n-grams? Largest |difference| of log10 probabilities and of backoffs (<s>'s probability skipped)."""
    a, b = folder / "ours.records", folder / "theirs.records"
    arpa_records(ours, a)
    arpa_records(theirs, b)
    worst_p = worst_b = 0.0
    same = True
    rows = 0
    with a.open(encoding="utf-8") as fa, b.open(encoding="utf-8") as fb:
        for x, y in zip(fa, fb, strict=False):
            xo, xg, xp, xb = x.split("\t")
            yo, yg, yp, yb = y.split("\t")
            if (xo, xg) != (yo, yg):
                same = False
                break
            rows += 1
            if xg != "<s>":
                worst_p = max(worst_p, abs(float(xp) - float(yp)))
            worst_b = max(worst_b, abs(float(xb) - float(yb)))
        same = same and fa.readline() == "" and fb.readline() == ""
    a.unlink()
    b.unlink()
    return {"same_ngrams": same, "ngrams": rows, "max_prob_diff": worst_p, "max_backoff_diff": worst_b}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=4_800_000, help="corpus words at scale 1")
    parser.add_argument("--scale", type=int, nargs="+", default=[1], help="corpus sizes, in multiples of --words")
    parser.add_argument("--vocabulary", type=int, default=50_000)
    parser.add_argument("--order", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--old", type=Path, help="another build.py (or former lm/ folder) to time on the first scale")
    parser.add_argument("--memory", nargs="+", default=["-"], help="build_arpa memory budgets (default: its default)")
    parser.add_argument("--lmplz", help="path of KenLM's lmplz (default: $LMPLZ, else lmplz on PATH)")
    parser.add_argument("--no-compare", action="store_true", help="do not compare lmplz's ARPA with ours")
    parser.add_argument("--folder", type=Path, help="keep corpora and models here (default: a temporary folder)")
    args = parser.parse_args(argv)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench_build_arpa-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    notes = []
    lmplz = find_lmplz(args.lmplz)
    if lmplz is None:
        print("lmplz not found (--lmplz, $LMPLZ, PATH): the lmplz column is skipped (build it from the kenlm sdist)")
    try:
        for scale in args.scale:
            words = args.words * scale
            corpus = folder / f"corpus{scale}.txt"
            if not corpus.exists():
                write_corpus(corpus, words, args.vocabulary, args.seed)
            outputs = []
            for memory in args.memory:
                label = "default" if memory == "-" else memory
                output = folder / f"new{scale}-{label}.arpa"
                new = run_build(corpus, output, args.order, memory=memory)
                outputs.append(output)
                rows.append((f"build_arpa memory={label}, {words / 1e6:.1f} M words", new, sum(new["counts"])))
                print(rows[-1][0], json.dumps(new), flush=True)
            first = outputs[0].read_bytes()
            same = all(o.read_bytes() == first for o in outputs[1:])
            notes.append(f"{words / 1e6:.1f} M words: the {len(outputs)} budgets wrote the same bytes: {same}")
            del first
            if args.old is not None and scale == args.scale[0]:
                old = run_build(corpus, folder / f"old{scale}.arpa", args.order, str(args.old.resolve()))
                same = (folder / f"old{scale}.arpa").read_bytes() == outputs[0].read_bytes()
                rows.append((f"old build_arpa, {words / 1e6:.1f} M words (same bytes: {same})", old, sum(old["counts"])))
                print(rows[-1][0], json.dumps(old), flush=True)
            if lmplz is not None:
                kenlm = run_lmplz(lmplz, corpus, folder / f"lmplz{scale}.arpa", args.order)
                rows.append((f"lmplz -S 2G --discount_fallback, {words / 1e6:.1f} M words", kenlm, None))
                print(rows[-1][0], json.dumps(kenlm), flush=True)
                ratio = min(r["seconds"] for name, r, _ in rows if name.startswith("build_arpa") and
                            f"{words / 1e6:.1f} M" in name) / kenlm["seconds"]
                notes.append(f"{words / 1e6:.1f} M words: fastest build_arpa / lmplz wall time = {ratio:.2f}x")
                if not args.no_compare:
                    diff = compare_arpa(outputs[0], folder / f"lmplz{scale}.arpa", folder)
                    notes.append(f"{words / 1e6:.1f} M words, ours vs lmplz: {json.dumps(diff)}")
                    print(notes[-1], flush=True)
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n| build (order {args.order}) | n-grams | wall time | peak RSS |")
    print("|---|---|---|---|")
    for name, result, ngrams in rows:
        count = f"{ngrams / 1e6:.2f} M" if ngrams is not None else "-"
        print(f"| {name} | {count} | {result['seconds']:.1f} s | {result['rss'] / 2**20:,.0f} MB |")
    print()
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
