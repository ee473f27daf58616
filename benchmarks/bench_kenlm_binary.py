"""The native decoder with one LM read two ways: a plain ARPA file against the same model as
a KenLM probing binary (both read natively, the binary mapped in place; before issue 12 the
binary went through the kenlm package and Python callbacks). Same answers; this measures
what reading the LM from the KenLM binary costs.

Usage (from the repository root, ../shared beside it):
    python benchmarks/bench_kenlm_binary.py
16 noisy copies of the real wav2vec2 logits (noise std 3.0, seed 7), width 100, one thread,
best of 3 interleaved runs.
"""

from __future__ import annotations

import time

import numpy as np

from ctcdecode_kit import Vocabulary, build_decoder

SHARED = "../shared/data"


def main() -> None:
    vocab = Vocabulary.from_file(f"{SHARED}/wav2vec2-logits/vocab.json")
    raw = np.load(f"{SHARED}/wav2vec2-logits/121-121726-0000.npy")[0]
    rng = np.random.default_rng(7)
    batch = np.stack([raw + rng.normal(0, 3.0, raw.shape).astype(np.float32) for _ in range(16)])
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
