"""What the kit's forced alignment adds to the ``pyctcdecode`` backend, and whether the two
beam backends now report the same tokens and word frames.

Usage (from the repository root, ../shared beside it):
    python benchmarks/bench_alignment.py
the real wav2vec2 logits and 15 noisy copies (bench_decoders' batch: noise std 3.0, seed 0), width 100, no LM, one
process; the second of two runs is reported.
"""

from __future__ import annotations

import time

import numpy as np

from bench_decoders import load_inputs
from ctcdecode_kit import build_decoder
from ctcdecode_kit.alignment import align_text



def main() -> None:
    vocab, log_probs, _ = load_inputs(16, 3.0, 0)  # bench_decoders' noisy batch
    batch = np.stack(log_probs)
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
