"""Wall time and peak memory of ``build_arpa`` on a generated corpus as it grows (issue 12).

The corpus is the one ``make_big_lm.py`` draws (Zipf, s = 1.05, over the 50k most probable
real words of ``../shared/data/librispeech-lm/3-gram.pruned.arpa``; sentences of 4 to 30
words; seed 0), written as text, one sentence per line, ``4.8 M * scale`` words. Each build
runs in a fresh Python process; its wall time and peak RSS (``ru_maxrss`` of that process,
interpreter and numpy included) are reported. KenLM's ``lmplz -o ORDER -S 2G`` is timed on
the same text when it is on PATH (else the column says so). ``--old FILE`` also times another
``build.py`` (e.g. the previous implementation, ``git show HEAD~1:lm/build.py > /tmp/old_build.py``)
on the corpus of the first scale, and checks both wrote the same bytes.

    .venv/bin/python benchmarks/bench_build_arpa.py                       # 4.8 M words, order 4
    .venv/bin/python benchmarks/bench_build_arpa.py --scale 1 4           # and 19.2 M words
    .venv/bin/python benchmarks/bench_build_arpa.py --words 1200000 --old /tmp/old_build.py

Corpora and models go to ``--folder`` (default: a temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import json
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
import importlib.util, json, resource, sys, time
from pathlib import Path
corpus, output, order, module = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if module == "-":
    from ctcdecode_kit.lm import build_arpa
else:
    spec = importlib.util.spec_from_file_location("ctcdecode_kit.lm._bench_build", module)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    build_arpa = mod.build_arpa
start = time.perf_counter()
stats = build_arpa(Path(corpus), output, order=order)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
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


def run_build(corpus: Path, output: Path, order: int, module: str = "-") -> dict:
    """build_arpa in a fresh process: seconds, peak RSS in bytes, n-gram counts."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus), str(output), str(order), module],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"build_arpa ({module}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_lmplz(corpus: Path, output: Path, order: int) -> dict | None:
    """``lmplz -o ORDER -S 2G`` on the same text: seconds and peak RSS, or None when absent."""
    lmplz = shutil.which("lmplz")
    if lmplz is None:
        return None
    # a fresh wrapper process, so that its RUSAGE_CHILDREN holds lmplz alone
    wrapper = (
        "import resource, subprocess, sys, time; start = time.perf_counter(); "
        "subprocess.run(sys.argv[1:4] + ['-S', '2G'], stdin=open(sys.argv[4], 'rb'), "
        "stdout=open(sys.argv[5], 'wb'), stderr=subprocess.DEVNULL, check=True); "
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, lmplz, "-o", str(order), str(corpus), str(output)],
                          capture_output=True, text=True, check=True)
    seconds, rss = done.stdout.split()
    return {"seconds": float(seconds), "rss": int(rss)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=4_800_000, help="corpus words at scale 1")
    parser.add_argument("--scale", type=int, nargs="+", default=[1], help="corpus sizes, in multiples of --words")
    parser.add_argument("--vocabulary", type=int, default=50_000)
    parser.add_argument("--order", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--old", type=Path, help="another build.py to time on the first scale, for a before/after row")
    parser.add_argument("--folder", type=Path, help="keep corpora and models here (default: a temporary folder)")
    args = parser.parse_args(argv)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench_build_arpa-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    if shutil.which("lmplz") is None:
        print("lmplz is not on PATH: the lmplz column is skipped (build it from the kenlm sdist to fill it)")
    try:
        for scale in args.scale:
            words = args.words * scale
            corpus = folder / f"corpus{scale}.txt"
            if not corpus.exists():
                write_corpus(corpus, words, args.vocabulary, args.seed)
            new = run_build(corpus, folder / f"new{scale}.arpa", args.order)
            rows.append((f"build_arpa, {words / 1e6:.1f} M words", new, sum(new["counts"])))
            if args.old is not None and scale == args.scale[0]:
                old = run_build(corpus, folder / f"old{scale}.arpa", args.order, str(args.old.resolve()))
                same = (folder / f"old{scale}.arpa").read_bytes() == (folder / f"new{scale}.arpa").read_bytes()
                rows.append((f"old build_arpa, {words / 1e6:.1f} M words (same bytes: {same})", old, sum(old["counts"])))
            kenlm = run_lmplz(corpus, folder / f"lmplz{scale}.arpa", args.order)
            if kenlm is not None:
                rows.append((f"lmplz -S 2G, {words / 1e6:.1f} M words", kenlm, None))
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n| build (order {args.order}) | n-grams | wall time | peak RSS |")
    print("|---|---|---|---|")
    for name, result, ngrams in rows:
        count = f"{ngrams / 1e6:.2f} M" if ngrams is not None else "-"
        print(f"| {name} | {count} | {result['seconds']:.1f} s | {result['rss'] / 2**20:,.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
