"""Generate a big 4-gram ARPA deterministically, for the big-LM benchmark (issue 12).

The corpus is drawn from a Zipfian distribution over the most probable real words of
LibriSpeech's pruned 3-gram (``../shared/data/librispeech-lm/3-gram.pruned.arpa``), in
sentences of 4 to 30 words. Every n-gram (n <= 4) seen in the corpus is kept (no pruning,
so every n-gram's prefix and suffix are in the file, as KenLM requires), with absolutely
discounted probabilities and backoffs: not a normalised model, but a valid ARPA file that
KenLM loads and that ranks frequent word sequences higher, so decoding with it measures
something.

With the defaults (50k words, 4.8 M corpus words, seed 0) the file has 10.3 M n-grams
and 356 MB; it takes about 20 s and 1 GB of RAM here. The output goes where you say, never into
the repository:

    .venv/bin/python benchmarks/make_big_lm.py /tmp/biglm            # writes /tmp/biglm/big4.arpa
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "librispeech-lm" / "3-gram.pruned.arpa"
DISCOUNT = 0.5
ORDER = 4
BITS = 16  # bits per word id in a packed n-gram key (vocabulary < 65536)


def real_words(source: Path, count: int) -> list[str]:
    """The ``count`` most probable ordinary words of an ARPA file's unigram section."""
    scored: list[tuple[float, str]] = []
    with source.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("\\1-grams:"):
                break
        for line in f:
            line = line.strip()
            if not line:
                break
            fields = line.split("\t")
            word = fields[1]
            if word.startswith("<") or not word.isascii():
                continue
            scored.append((-float(fields[0]), word))
    scored.sort()
    if len(scored) < count:
        raise SystemExit(f"{source} has only {len(scored)} usable unigrams, {count} were asked for")
    return [w for _, w in scored[:count]]


def corpus(n_words: int, tokens: int, seed: int) -> np.ndarray:
    """Word ids of the corpus with sentence marks: 0 = <s>, 1 = </s>, 2.. = words (Zipf, s = 1.05)."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, n_words + 1, dtype=np.float64)
    p = ranks**-1.05
    p /= p.sum()
    words = rng.choice(n_words, size=tokens, p=p).astype(np.int64) + 2
    lengths = rng.integers(4, 31, size=tokens // 4 + 1)
    ends = np.cumsum(lengths)
    ends = ends[ends < tokens]
    starts = np.concatenate([[0], ends])
    stops = np.concatenate([ends, [tokens]])
    pieces = []
    for a, b in zip(starts, stops):
        pieces.extend((np.array([0]), words[a:b], np.array([1])))
    return np.concatenate(pieces)


def ngram_counts(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted packed keys (first word in the high bits) and counts of the n-grams inside sentences."""
    m = len(ids) - n + 1
    key = np.zeros(m, dtype=np.uint64)
    ok = np.ones(m, dtype=bool)
    for i in range(n):
        w = ids[i : i + m]
        key = (key << np.uint64(BITS)) | w.astype(np.uint64)
        if i > 0:
            ok &= w != 0  # <s> only first
        if i < n - 1:
            ok &= w != 1  # </s> only last
    return np.unique(key[ok], return_counts=True)


def write_arpa(path: Path, vocab: list[str], ids: np.ndarray) -> int:
    """Count, estimate and write the model; returns the number of n-grams."""
    keys, counts = [], []
    for n in range(1, ORDER + 1):
        k, c = ngram_counts(ids, n)
        keys.append(k)
        counts.append(c)
    # context statistics: total count and number of distinct continuations of each (n-1)-gram
    ctx_total: list[np.ndarray | None] = [None] * (ORDER + 1)
    ctx_types: list[np.ndarray | None] = [None] * (ORDER + 1)
    ctx_index: list[np.ndarray | None] = [None] * (ORDER + 1)
    for n in range(2, ORDER + 1):
        prefix = keys[n - 1] >> np.uint64(BITS)
        lower = keys[n - 2]
        idx = np.searchsorted(lower, prefix)
        ctx_index[n] = idx
        total = np.zeros(len(lower), dtype=np.int64)
        types = np.zeros(len(lower), dtype=np.int64)
        np.add.at(total, idx, counts[n - 1])
        np.add.at(types, idx, 1)
        ctx_total[n], ctx_types[n] = total, types
    words = np.array(vocab, dtype=object)
    n_total = int(counts[0].sum())
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\\data\\\n")
        out.write(f"ngram 1={len(keys[0]) + 1}\n")  # + <unk>
        for n in range(2, ORDER + 1):
            out.write(f"ngram {n}={len(keys[n - 1])}\n")
        for n in range(1, ORDER + 1):
            out.write(f"\n\\{n}-grams:\n")
            k, c = keys[n - 1], counts[n - 1]
            if n == 1:
                prob = np.log10(c / n_total)
                out.write("-6.000000\t<unk>\t0\n")
            else:
                idx = ctx_index[n]
                prob = np.log10((c - DISCOUNT) / ctx_total[n][idx])
            has_bo = n < ORDER
            if has_bo:
                bo = np.zeros(len(k))
                seen = ctx_total[n + 1] > 0
                bo[seen] = np.log10(DISCOUNT * ctx_types[n + 1][seen] / ctx_total[n + 1][seen])
            cols = [words[((k >> np.uint64(BITS * (n - 1 - i))) & np.uint64(2**BITS - 1)).astype(np.int64)] for i in range(n)]
            step = 500_000
            for a in range(0, len(k), step):
                b = min(a + step, len(k))
                grams = [" ".join(t) for t in zip(*(col[a:b] for col in cols))] if n > 1 else list(cols[0][a:b])
                if n == 1:
                    prob_s = ["-99" if g == "<s>" else f"{p:.6f}" for g, p in zip(grams, prob[a:b])]
                else:
                    prob_s = [f"{p:.6f}" for p in prob[a:b]]
                if has_bo:
                    lines = [f"{p}\t{g}\t{q:.6f}\n" for p, g, q in zip(prob_s, grams, bo[a:b])]
                else:
                    lines = [f"{p}\t{g}\n" for p, g in zip(prob_s, grams)]
                out.writelines(lines)
        out.write("\n\\end\\\n")
    return sum(len(k) for k in keys) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="output folder (created); the file is FOLDER/big4.arpa")
    parser.add_argument("--words", type=int, default=50_000, help="vocabulary size (< 65534)")
    parser.add_argument("--tokens", type=int, default=4_800_000, help="corpus size in words")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="ARPA file whose unigrams give the words")
    args = parser.parse_args(argv)
    if not 1 <= args.words < 2**BITS - 2:
        parser.error(f"--words must be between 1 and {2**BITS - 3}")
    if ROOT in args.folder.resolve().parents or args.folder.resolve() == ROOT:
        parser.error("write the big LM outside the repository (e.g. /tmp/biglm)")
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / "big4.arpa"
    t0 = time.perf_counter()
    vocab = ["<s>", "</s>", *real_words(args.source, args.words)]
    ids = corpus(args.words, args.tokens, args.seed)
    total = write_arpa(path, vocab, ids)
    print(
        f"wrote {path}: {total:,} n-grams, {path.stat().st_size / 1e6:.0f} MB, "
        f"{args.tokens:,} corpus words over {args.words:,} words, in {time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
