"""What the kit's forced alignment adds to the ``pyctcdecode`` backend, and whether the two
beam backends now report the same tokens and word frames.

Usage (from the repository root, ../shared beside it):
    python benchmarks/bench_alignment.py
16 noisy copies of the real wav2vec2 logits (noise std 3.0, seed 7), width 100, no LM, one
process; the second of two runs is reported.
"""

from __future__ import annotations

import time

import numpy as np

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.alignment import align_text

SHARED = "../shared/data"


def main() -> None:
    vocab = Vocabulary.from_file(f"{SHARED}/wav2vec2-logits/vocab.json")
    raw = np.load(f"{SHARED}/wav2vec2-logits/121-121726-0000.npy")[0]
    rng = np.random.default_rng(7)
    batch = np.stack([raw + rng.normal(0, 3.0, raw.shape).astype(np.float32) for _ in range(16)])
    slow = build_decoder("pyctcdecode", vocab, num_workers=1, beam_width=100)
    fast = build_decoder("native", vocab, num_workers=1, beam_width=100)
    for _ in range(2):
        start = time.perf_counter()
        slow_hyps = slow.decode(batch)
        slow_s = time.perf_counter() - start
        start = time.perf_counter()
        fast_hyps = fast.decode(batch)
        fast_s = time.perf_counter() - start
        start = time.perf_counter()
        for logits, nbest in zip(batch, slow_hyps):
            align_text(logits, nbest[0].text, vocab)
        align_s = time.perf_counter() - start
    n = len(batch)
    print(f"pyctcdecode backend {1000 * slow_s / n:.2f} ms/utt, of which alignment {1000 * align_s / n:.3f} ms/utt "
          f"({100 * align_s / slow_s:.1f} %); native {1000 * fast_s / n:.2f} ms/utt")
    for field in ("text", "tokens", "words"):
        same = [getattr(a[0], field) for a in slow_hyps] == [getattr(b[0], field) for b in fast_hyps]
        print(f"same {field} in pyctcdecode and native: {same}")


if __name__ == "__main__":
    main()
