"""NativeDecoder(unigrams=..., score_boundary=...): pyctcdecode's known-word list and LM boundaries.

pyctcdecode's ``LanguageModel(kenlm_model, unigrams, score_boundary=...)`` is what a Hub
"-with-lm" repo's ``language_model/`` folder loads into; the native decoder with
``lm_rules="pyctcdecode"`` takes the same two settings.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from ctcdecode_kit import build_decoder
from ctcdecode_kit.decoder import decoder_option_names
from ctcdecode_kit.errors import InputError, MissingFileError
from tests.conftest import FlatLM, require_module

native = require_module("ctcdecode_kit.decoders.native")

EXACT = {"lm_rules": "pyctcdecode", "beam_width": 30, "num_workers": 1}


@pytest.fixture(scope="module")
def libri_arpa(shared):
    return shared.path("librispeech-lm/3-gram.pruned.arpa")


@pytest.fixture(scope="module")
def libri_bin(shared):
    return shared.path("kenlm-bin/librispeech-3gram-pruned.probing.bin")


@pytest.fixture(scope="module")
def noisy(shared):
    raw = shared.wav2vec2_logits()[0]
    rng = np.random.default_rng(11)
    return np.stack([raw] + [raw + rng.normal(0, s, raw.shape).astype(np.float32) for s in (1.5, 3.0, 4.5)])


@pytest.fixture(scope="module")
def reference_words(shared):
    return sorted({w.lower() for w in shared.wav2vec2_reference().split()})


def _same(a, b):
    for x, y in zip(a, b):
        assert [(h.text, h.words, h.tokens) for h in x] == [(h.text, h.words, h.tokens) for h in y]
        assert [h.score for h in x] == pytest.approx([h.score for h in y], abs=1e-9)


def test_the_options_are_listed_and_kept_by_with_options(shared, libri_bin, reference_words):
    assert {"unigrams", "score_boundary"} <= decoder_option_names("native")
    decoder = build_decoder("native", shared.wav2vec2_vocab(), lm=libri_bin, unigrams=reference_words,
                            score_boundary=False, **EXACT)
    derived = decoder.with_options(alpha=0.9)
    assert derived.score_boundary is False and derived._config["unigrams"] == tuple(reference_words)
    assert derived._lm_unigrams is decoder._lm_unigrams  # the list is built once per LM and word list
    assert decoder.with_options(score_boundary=True).score_boundary is True


def test_a_word_list_file_equals_the_same_words_in_a_list(shared, libri_bin, reference_words, noisy, tmp_path):
    path = tmp_path / "unigrams.txt"
    path.write_text("".join(w + "\n" for w in reference_words), encoding="utf-8")
    vocab = shared.wav2vec2_vocab()
    from_file = build_decoder("native", vocab, lm=libri_bin, unigrams=path, **EXACT)
    from_list = build_decoder("native", vocab, lm=libri_bin, unigrams=reference_words, **EXACT)
    _same(from_file.decode(noisy, nbest=3), from_list.decode(noisy, nbest=3))
    assert from_file._config["unigrams"] == tuple(reference_words)


def test_words_the_lm_lacks_are_dropped_first(shared, libri_bin, reference_words, noisy):
    """Kept, ``"also" + "qq"`` would make the partial word ``also`` known (no offset)."""
    vocab = shared.wav2vec2_vocab()
    foreign = [w + "qq" for w in reference_words]
    empty = build_decoder("native", vocab, lm=libri_bin, unigrams=[], **EXACT).decode(noisy, nbest=3)
    _same(build_decoder("native", vocab, lm=libri_bin, unigrams=foreign, **EXACT).decode(noisy, nbest=3), empty)
    known = build_decoder("native", vocab, lm=libri_bin, unigrams=reference_words, **EXACT).decode(noisy, nbest=3)
    assert [h[0].score for h in known] != pytest.approx([h[0].score for h in empty])


def test_an_empty_list_differs_from_none_and_the_kit_rules_ignore_the_list(shared, libri_arpa, noisy):
    vocab = shared.wav2vec2_vocab()
    none = build_decoder("native", vocab, lm=libri_arpa, **EXACT).decode(noisy)
    empty = build_decoder("native", vocab, lm=libri_arpa, unigrams=(), **EXACT).decode(noisy)
    assert [h[0].score for h in none] != pytest.approx([h[0].score for h in empty])  # every partial word now costs
    kit = {**EXACT, "lm_rules": "kit"}
    _same(build_decoder("native", vocab, lm=libri_arpa, unigrams=["also"], **kit).decode(noisy),
          build_decoder("native", vocab, lm=libri_arpa, **kit).decode(noisy))


def test_score_boundary_false_reports_the_lm_score_without_sentence_markers(shared, libri_arpa, noisy):
    lm = native.ArpaLM(libri_arpa)
    vocab = shared.wav2vec2_vocab()
    open_ended = build_decoder("native", vocab, lm=libri_arpa, score_boundary=False, **EXACT).decode(noisy)
    bounded = build_decoder("native", vocab, lm=libri_arpa, **EXACT).decode(noisy)
    for hyps in open_ended:
        words = hyps[0].text.lower().split()
        assert hyps[0].lm_score == pytest.approx(lm.sentence_log10(words, bos=False, eos=False) * math.log(10))
    assert [h[0].score for h in open_ended] != pytest.approx([h[0].score for h in bounded])


def test_a_list_decodes_the_same_on_threads(shared, libri_bin, reference_words, noisy):
    vocab = shared.wav2vec2_vocab()
    options = {**EXACT, "num_workers": 4}
    decoder = build_decoder("native", vocab, lm=libri_bin, unigrams=reference_words, score_boundary=False, **options)
    serial = decoder.with_options(num_workers=1).decode(noisy, nbest=2)
    _same(decoder.decode(noisy, nbest=2), serial)
    results: list = [None] * 3

    def run(i: int) -> None:
        results[i] = decoder.decode(noisy, nbest=2)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        _same(got, serial)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"score_boundary": "no"}, InputError, "score_boundary must be True or False"),
        ({"unigrams": [b"bytes"]}, InputError, "unigrams must hold strings"),
        ({"unigrams": 3}, InputError, "unigrams must be an iterable of words or a path"),
        ({"unigrams": "/nonexistent/unigrams.txt"}, MissingFileError, "/nonexistent/unigrams.txt"),
    ],
)
def test_bad_values_are_refused_with_the_option_name(shared, options, error, message):
    with pytest.raises(error, match=message):
        build_decoder("native", shared.wav2vec2_vocab(), **options)


def test_score_boundary_false_needs_a_native_lm(shared):
    with pytest.raises(InputError, match="score_boundary=False needs a native LM"):
        build_decoder("native", shared.wav2vec2_vocab(), lm=FlatLM(), score_boundary=False)


@pytest.mark.extra("pyctcdecode", "kenlm")
@pytest.mark.parametrize("score_boundary", [True, False])
@pytest.mark.parametrize("words", ["listed", "reference", "empty"])
def test_the_pyctcdecode_library_gives_the_same_beams(shared, libri_arpa, libri_bin, noisy, reference_words,
                                                       words, score_boundary):
    """pyctcdecode's LanguageModel(kenlm.Model(.bin), unigrams, score_boundary) vs the native decoder."""
    require_module("pyctcdecode", install="pip install 'ctcdecode-kit[pyctcdecode]'")
    kenlm = require_module("kenlm", install="pip install 'ctcdecode-kit[kenlm]'")
    import torch
    from pyctcdecode import Alphabet, BeamSearchDecoderCTC, LanguageModel
    from pyctcdecode.language_model import load_unigram_set_from_arpa

    from ctcdecode_kit.labels import pyctcdecode_labels, strip_private

    unigrams = {"listed": sorted(load_unigram_set_from_arpa(str(libri_arpa))), "reference": reference_words,
                "empty": []}[words]
    vocab = shared.wav2vec2_vocab()
    lm = LanguageModel(kenlm.Model(str(libri_bin)), unigrams, alpha=0.6, beta=1.2, unk_score_offset=-9.0,
                       score_boundary=score_boundary)
    reference = BeamSearchDecoderCTC(Alphabet.build_alphabet(pyctcdecode_labels(vocab, "lower")), lm)
    decoder = build_decoder("native", vocab, lm=libri_bin, unigrams=unigrams, score_boundary=score_boundary,
                            alpha=0.6, beta=1.2, unk_score_offset=-9.0, **EXACT)
    got = decoder.decode(noisy, nbest=3)
    for log_probs, have in zip(torch.log_softmax(torch.from_numpy(noisy), -1).numpy(), got):
        want = reference.decode_beams(log_probs, beam_width=30)[:3]
        assert [h.text for h in have] == [" ".join(strip_private(b[0]).upper().split()) for b in want]
        assert [h.score for h in have] == pytest.approx([b[4] for b in want], abs=1e-4)
        assert [h.am_score for h in have] == pytest.approx([b[3] for b in want], abs=1e-4)
