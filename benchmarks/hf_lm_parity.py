"""Parity of ``ctcdecode_kit.from_pretrained`` with ``Wav2Vec2ProcessorWithLM.batch_decode`` on KenLM ``.bin`` repos.

Each repo is written by transformers' own ``Wav2Vec2ProcessorWithLM(...).save_pretrained``
(pyctcdecode's ``build_ctcdecoder``) from ../shared/data/kenlm-bin/'s LibriSpeech 3-gram
binaries (probing and trie), with three ``unigrams.txt`` (the ARPA file's 289 unigrams written
with a backoff, none given = an empty file, the reference transcript's 17 words) and
``score_boundary`` true and false: 12 repos. Each decodes the shared wav2vec2 logits and nine
noisy copies; an utterance counts as identical when text, logit_score, lm_score and word_offsets
all agree (the checks of tests/test_pretrained.py). Needs the ``[pyctcdecode]`` and ``[kenlm]``
extras and transformers.

Run from the repository root::

    .venv/bin/python benchmarks/hf_lm_parity.py
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Print one line per repo and the total count of identical utterances."""
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp())
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    from pyctcdecode.language_model import load_unigram_set_from_arpa
    from transformers import Wav2Vec2ProcessorWithLM

    import ctcdecode_kit
    from tests import test_pretrained as t
    from tests.conftest import shared_path

    arpa_words = sorted(load_unigram_set_from_arpa(str(shared_path("librispeech-lm/3-gram.pruned.arpa"))))
    line = shared_path("wav2vec2-logits/trans.txt").read_text(encoding="utf-8").split("\t", 1)[1]
    reference_words = sorted({w.lower() for w in line.split()})
    arrays = t._real_and_noisy()
    rng = np.random.default_rng(1)
    arrays += [arrays[0] + rng.normal(0, s, arrays[0].shape).astype(np.float32) for s in (1.5, 2.5, 3.5)]
    batch = np.stack(arrays)
    root = Path(tempfile.mkdtemp())
    same = total = 0
    for name in ("librispeech-3gram-pruned.probing.bin", "librispeech-3gram-pruned.trie.bin"):
        for label, unigrams in (("ARPA backoff list", arpa_words), ("none", None), ("transcript", reference_words)):
            for boundary in (True, False):
                folder = t._hf_layout(root / f"repo{total}", shared_path("wav2vec2-logits/vocab.json"),
                                      shared_path(f"kenlm-bin/{name}"), lowercase=True, unigrams=unigrams,
                                      lm_score_boundary=boundary)
                hf = Wav2Vec2ProcessorWithLM.from_pretrained(str(folder)).batch_decode(
                    batch, output_word_offsets=True, num_processes=1
                )
                ours = ctcdecode_kit.from_pretrained(folder).decode(batch)
                n = 0
                for i, hyps in enumerate(ours):
                    try:
                        t._assert_same(hf.text[i], hf.logit_score[i], hf.lm_score[i], hf.word_offsets[i], hyps[0])
                        n += 1
                    except AssertionError as exc:
                        print(f"  utterance {i} differs: {str(exc).splitlines()[0]}")
                same, total = same + n, total + len(ours)
                print(f"{name}  unigrams={label}  score_boundary={boundary}: {n}/{len(ours)} identical", flush=True)
    print(f"total: {same}/{total} utterances identical")


if __name__ == "__main__":
    main()
