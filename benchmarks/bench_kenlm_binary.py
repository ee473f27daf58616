"""The native decoder with one LM read two ways: a plain ARPA file against the same model as
a KenLM probing binary (both read natively, the binary mapped in place; before issue 12 the
binary went through the kenlm package and Python callbacks). Same answers; this measures
what reading the LM from the KenLM binary costs.

Usage (from the repository root, ../shared beside it):
    python benchmarks/bench_kenlm_binary.py
the real wav2vec2 logits and 15 noisy copies (bench_decoders' batch: noise std 3.0, seed 0), width 100, one thread,
best of 3 interleaved runs.
"""

from __future__ import annotations

import time

import numpy as np

from bench_decoders import load_inputs
from ctcdecode_kit import build_decoder

SHARED = "../shared/data"


def main() -> None:
    vocab, log_probs, _ = load_inputs(16, 3.0, 0)  # bench_decoders' noisy batch
    batch = np.stack(log_probs)
    lms = {
        "ARPA (native)": f"{SHARED}/librispeech-lm/3-gram.pruned.arpa",
        "KenLM probing binary (native)": f"{SHARED}/kenlm-bin/librispeech-3gram-pruned.probing.bin",
    }
    decoders = {name: build_decoder("native", vocab, lm=path, num_workers=1, beam_width=100) for name, path in lms.items()}
    times: dict[str, list[float]] = {name: [] for name in decoders}
    texts = {}
    for _ in range(3):
        for name, decoder in decoders.items():
            start = time.perf_counter()
            texts[name] = [h[0].text for h in decoder.decode(batch)]
            times[name].append(time.perf_counter() - start)
    base = min(times["ARPA (native)"])
    for name in decoders:
        best = min(times[name])
        print(f"{name:<34} {1000 * best / len(batch):6.2f} ms/utt   {best / base:4.1f}x")
    print("same top texts:", len(set(map(tuple, texts.values()))) == 1)


if __name__ == "__main__":
    main()
