"""Big-LM footprint: load time and peak RSS of KenLM vs the native ArpaLM, and the native binary (issue 12).

Each measurement runs in a fresh Python process, so one load's memory never hides another's.
Peak RSS is the process's ``ru_maxrss``; since ``import ctcdecode_kit`` alone takes
about 200 MB (numpy and the kit), the ratio is taken on the peak above the RSS the process
had after its imports, just before the load. Before a cold ARPA load, any binary cache beside the ARPA
(``<arpa>.ckbin``) is removed. The binary is written with ``ArpaLM.save_binary`` into a
temporary folder and opened in a fresh process: open time and the RSS added by opening.
``--decode N`` times decoding the noisy benchmark batch with the small and the big LM.
Two processes then map the binary and read all of it: their Rss, Pss and private memory
show the pages are shared. ``--queries N`` also compares N sampled word scores, native
binary vs KenLM.

Make the LM first (``benchmarks/make_big_lm.py``), then:

    .venv/bin/python benchmarks/make_big_lm.py /tmp/biglm
    .venv/bin/python benchmarks/bench_big_lm.py /tmp/biglm/big4.arpa --queries 100000

    gzip -k /tmp/biglm/big4.arpa; xz -k -1 -T2 /tmp/biglm/big4.arpa    # compressed copies, timed with --also
    .venv/bin/python benchmarks/bench_big_lm.py /tmp/biglm/big4.arpa --also /tmp/biglm/big4.arpa.gz /tmp/biglm/big4.arpa.xz
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
kind, path = sys.argv[1], sys.argv[2]
if kind == "kenlm":
    import kenlm
elif kind != "idle":
    from ctcdecode_kit.lm import ArpaLM
before = rss_mb()
t0 = time.perf_counter()
if kind == "kenlm":
    model = kenlm.Model(path)
elif kind == "native":
    model = ArpaLM(path)
elif kind == "save":
    ArpaLM(path).save_binary(sys.argv[3])
seconds = time.perf_counter() - t0
after = rss_mb()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_before_mb": before, "rss_after_mb": after, "peak_mb": peak}))
"""

_QUERIES = r"""
import json, random, sys
import kenlm
from ctcdecode_kit.lm import ArpaLM
arpa, binary, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
words = []
with open(arpa, encoding="utf-8") as f:
    for line in f:
        if line.startswith("\\1-grams:"):
            break
    for line in f:
        if not line.strip():
            break
        words.append(line.split("\t")[1])
words += ["zzqx-unknown"]
rng = random.Random(0)
ken, native = kenlm.Model(arpa), ArpaLM(binary)
frequent = words[: 200]
mismatches = queries = 0
while queries < n:
    k = rng.randint(1, 8)
    sentence = [rng.choice(frequent if rng.random() < 0.7 else words) for _ in range(k)]
    expected = [s for s, _, _ in ken.full_scores(" ".join(sentence), bos=True, eos=True)]
    got = native.log10_scores(sentence)
    mismatches += sum(abs(a - b) > 0 for a, b in zip(expected, got))
    queries += len(expected)
print(json.dumps({"queries": queries, "mismatches": mismatches}))
"""


def _run(kind: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


_SHARE = r"""
import sys
from ctcdecode_kit.lm import ArpaLM
lm = ArpaLM(sys.argv[1])
lm.verify()  # reads every page of the mapping
print("ready", flush=True)
sys.stdin.read()
"""


def _memory(pid: int, binary: Path) -> dict[str, float]:
    """Rss, Pss and private memory (MB) of the process's mapping of ``binary`` (/proc/PID/smaps)."""
    out = {"Rss": 0.0, "Pss": 0.0, "Private_Clean": 0.0, "Private_Dirty": 0.0}
    inside = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and ":" not in head[0]:  # a mapping's first line
                inside = line.rstrip().endswith(str(binary))
            elif inside and head and head[0].rstrip(":") in out:
                out[head[0].rstrip(":")] += int(head[1]) / 1024
    return out


def _shared_pages(binary: Path) -> list[dict[str, float]]:
    """Two processes that map the same binary and read all of it: their Rss, Pss and private MB."""
    procs = [
        subprocess.Popen([sys.executable, "-c", _SHARE, str(binary)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise SystemExit("a page-sharing process failed")
        return [_memory(p.pid, binary) for p in procs]
    finally:
        for p in procs:
            p.communicate("")


def _decode_speed(arpa: Path, count: int, width: int) -> list[tuple[str, float]]:
    """ms/utt of native with the small and the big LM and of pyctcdecode + KenLM with the big LM."""
    import logging
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_decoders import ALPHA, BETA, LM_PATH, labels_for, load_inputs  # the noisy benchmark batch
    from pyctcdecode import build_ctcdecoder

    from ctcdecode_kit import build_decoder

    vocab, log_probs, _ = load_inputs(count, 3.0, 0)

    def per_utt(decode) -> float:
        for lp in log_probs:  # warm-up pass: the mapped binary's pages come in on first use
            decode(lp)
        t0 = time.perf_counter()
        for lp in log_probs:
            decode(lp)
        return (time.perf_counter() - t0) * 1e3 / len(log_probs)

    rows = []
    for name, lm in (("native, small LM (3-gram.pruned)", LM_PATH), (f"native, big LM ({arpa.name})", arpa)):
        decoder = build_decoder("native", vocab, beam_width=width, lm=str(lm), alpha=ALPHA, beta=BETA, num_workers=1, lm_rules="pyctcdecode")
        rows.append((name, per_utt(lambda lp, d=decoder: d.decode(lp))))
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    pyc = build_ctcdecoder(labels_for(vocab, "lower"), kenlm_model_path=str(arpa), alpha=ALPHA, beta=BETA)
    rows.append((f"pyctcdecode + KenLM, big LM ({arpa.name})", per_utt(lambda lp: pyc.decode_beams(lp, beam_width=width))))
    return rows


def _ngrams(arpa: Path) -> int:
    total = 0
    with arpa.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("ngram "):
                total += int(line.split("=")[1])
            elif line.startswith("\\1-grams"):
                break
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("arpa", type=Path, help="the ARPA file (e.g. from make_big_lm.py)")
    parser.add_argument("--queries", type=int, default=0, help="also compare this many sampled word scores with KenLM")
    parser.add_argument(
        "--decode", type=int, default=0, metavar="N", help="also time decoding N noisy utterances (width 100) with the big LM"
    )
    parser.add_argument(
        "--also", type=Path, nargs="*", default=[], help="more ARPA files to time cold (e.g. the .arpa.gz / .arpa.xz of the same LM)"
    )
    args = parser.parse_args(argv)
    arpa = args.arpa.resolve()
    if not arpa.is_file():
        parser.error(f"{arpa} does not exist; make it with benchmarks/make_big_lm.py")
    n = _ngrams(arpa)
    size = arpa.stat().st_size
    print(f"{arpa}: {n:,} n-grams, {size / 1e6:.0f} MB")
    idle = _run("idle", str(arpa))
    print(f"idle python (no imports): RSS {idle['peak_mb']:.0f} MB")
    rows = []
    ken = _run("kenlm", str(arpa))
    rows.append(("kenlm.Model(arpa)", ken))
    cached = arpa.with_name(arpa.name + ".ckbin")
    cached.unlink(missing_ok=True)
    native = _run("native", str(arpa))
    rows.append(("native ArpaLM(arpa), cold", native))
    for extra in args.also:
        extra = extra.resolve()
        extra.with_name(extra.name + ".ckbin").unlink(missing_ok=True)
        rows.append((f"native ArpaLM({extra.name}), cold", _run("native", str(extra))))
        try:
            rows.append((f"kenlm.Model({extra.name})", _run("kenlm", str(extra))))
        except SystemExit as exc:
            print(f"kenlm cannot load {extra.name}: {str(exc).splitlines()[-1]}")
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "big.ckbin"
        _run("save", str(arpa), str(binary))
        opened = _run("native", str(binary))
        rows.append(("native ArpaLM(binary)", opened))
        bsize = binary.stat().st_size
        shared = _shared_pages(binary)
        check = None
        if args.queries:
            out = subprocess.run(
                [sys.executable, "-c", _QUERIES, str(arpa), str(binary), str(args.queries)],
                cwd=ROOT, capture_output=True, text=True, check=False,
            )
            if out.returncode != 0:
                raise SystemExit(f"query check failed:\n{out.stderr.strip()}")
            check = json.loads(out.stdout.strip().splitlines()[-1])
    print("\n| | load time | peak RSS of the process | peak RSS above the imports | RSS kept after the load |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        model_peak = max(0.0, r["peak_mb"] - r["rss_before_mb"])
        ratio_t = f" ({r['seconds'] / ken['seconds']:.2f}x)" if r is not ken else ""
        ratio_m = f" ({model_peak / (ken['peak_mb'] - ken['rss_before_mb']):.2f}x)" if r is not ken else ""
        print(
            f"| {name} | {r['seconds'] * 1e3:,.1f} ms{ratio_t} | {r['peak_mb']:,.0f} MB | {model_peak:,.0f} MB{ratio_m} | "
            f"{r['rss_after_mb'] - r['rss_before_mb']:,.0f} MB |"
        )
    print(
        f"\nnative binary: {bsize / 1e6:.0f} MB, {bsize / n:.1f} B/n-gram; open {opened['seconds'] * 1e3:.2f} ms = "
        f"{100 * opened['seconds'] / native['seconds']:.2f} % of the ARPA load; RSS added by opening "
        f"{opened['rss_after_mb'] - opened['rss_before_mb']:.1f} MB = "
        f"{100 * (opened['rss_after_mb'] - opened['rss_before_mb']) * 2**20 / bsize:.1f} % of the file"
    )
    print("\ntwo processes mapping the binary, each after reading all of it (verify()); their mapping of the file:")
    for i, m in enumerate(shared, 1):
        private = m["Private_Clean"] + m["Private_Dirty"]
        print(f"  process {i}: Rss {m['Rss']:,.0f} MB, Pss {m['Pss']:,.0f} MB, private {private:,.0f} MB")
    print(f"  sum of Pss {sum(m['Pss'] for m in shared):,.0f} MB for a {bsize / 2**20:,.0f} MiB file: one copy, shared")
    if check is not None:
        print(f"scores vs KenLM: {check['mismatches']} of {check['queries']:,} sampled word scores differ")
    if args.decode:
        speeds = _decode_speed(arpa, args.decode, 100)
        print(f"\ndecoding {args.decode} noisy utterances (bench_decoders' batch, width 100, lm_rules='pyctcdecode'; second pass):")
        for name, ms in speeds:
            print(f"  {name}: {ms:.2f} ms/utt")
        print(f"  pyctcdecode / native with the big LM: {speeds[2][1] / speeds[1][1]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
