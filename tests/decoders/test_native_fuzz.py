"""Fuzzing the native entry points: no input may crash the interpreter.

The compiled ``decode_batch`` is called directly with random shapes, values (including
-inf, +inf and NaN, which the Python layer would have refused), lengths, beam widths,
tiny vocabularies, empty utterances and random token roles; it must either return
well-formed beams or raise ValueError. The public decoder must return hypotheses whose
tokens spell their text, or raise an InputError about the input (non-finite logits, lengths
past the frames); a VocabularyError on logits that fit the vocabulary fails the test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.errors import InputError, VocabularyError
from tests.conftest import require_module

native = require_module("ctcdecode_kit.decoders.native")
_native = require_module("ctcdecode_kit._native")

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALUES = st.one_of(
    st.floats(-40, 5, width=32),
    st.sampled_from([-math.inf, math.inf, math.nan, 0.0, float(np.float32(-1e30)), float(np.float32(1e30))]),
)
LABEL_POOL = ["", " ", "a", "b", "ab", "\u2581a", "\u2581", "b\u2581", "'", "\ue001"]


@pytest.fixture(scope="module")
def toy_lm(shared):
    return native.ArpaLM(shared.path("kenlm/toy0.arpa"))


@st.composite
def native_calls(draw):
    vocab_size = draw(st.integers(1, 6))
    labels = draw(st.lists(st.sampled_from(LABEL_POOL), min_size=vocab_size, max_size=vocab_size))
    arrays_ = [
        draw(arrays(np.float32, (draw(st.integers(0, 12)), vocab_size), elements=VALUES))
        for _ in range(draw(st.integers(1, 3)))
    ]
    options = _native.DecodeOptions()
    options.beam_width = draw(st.integers(1, 40))
    options.nbest = draw(st.integers(1, 5))
    options.token_top_k = draw(st.integers(0, 3))
    options.beam_prune_logp = draw(st.sampled_from([-10.0, -1e9, 0.0, -math.inf]))
    options.token_min_logp = draw(st.sampled_from([-5.0, -1e9, 0.0, math.inf]))
    options.blank_skip_logp = draw(st.sampled_from([1.0, -0.05, 0.0]))
    options.hotwords = draw(st.lists(st.sampled_from(["a", "ab", "b", "zz"]), max_size=2))
    options.lm_cache = draw(st.booleans())
    blank = draw(st.integers(0, vocab_size - 1))
    delimiter = draw(st.integers(-1, vocab_size - 1))
    return arrays_, labels, blank, delimiter, draw(st.booleans()), options, draw(st.booleans()), draw(st.integers(1, 3))


@FUZZ
@given(call=native_calls())
def test_native_decode_batch_returns_beams_or_raises_value_error(call, toy_lm):
    arrays_, labels, blank, delimiter, bpe, options, use_lm, threads = call
    lm = toy_lm._model if use_lm else None
    try:
        out = _native.decode_batch(arrays_, labels, blank, delimiter, bpe, options, lm, None, None, 0.5, 1.0, -10.0, threads)
    except ValueError:
        assert delimiter == blank or len(set(labels)) < 0  # the only refusal on these inputs
        return
    assert len(out) == len(arrays_)
    for beams in out:
        assert 1 <= len(beams) <= options.nbest
        for text, frames, am_score, score, tokens in beams:
            assert isinstance(text, str) and len(frames) >= 0
            assert all(0 <= t < len(labels) and t != blank for t in tokens)
            assert not math.isnan(am_score) and not math.isnan(score)
        scores = [b[3] for b in beams]
        assert scores == sorted(scores, reverse=True)


@FUZZ
@given(
    array=st.one_of(
        arrays(np.float64, (3, 2)),
        arrays(np.float32, (2, 3, 2)),
        arrays(np.float32, (3,)),
        arrays(np.int32, (3, 2)),
        arrays(np.float32, (3, 5)),
    ),
    transpose=st.booleans(),
)
def test_native_decode_batch_refuses_wrong_arrays_with_value_error(array, transpose):
    if transpose and array.ndim == 2:
        array = array.T
    with pytest.raises(ValueError):
        _native.decode_batch([array], ["", "a"], 0, -1, False, _native.DecodeOptions(), None, None, None, 0.5, 1.0, -10.0, 1)


def test_native_decode_batch_refuses_bad_ids_and_options():
    ok = np.zeros((3, 2), np.float32)
    options = _native.DecodeOptions()
    for blank, delimiter in [(2, -1), (-1, -1), (0, 0), (0, 5)]:
        with pytest.raises(ValueError):
            _native.decode_batch([ok], ["", "a"], blank, delimiter, False, options, None, None, None, 0.5, 1.0, -10.0, 1)
    options.beam_width = 0
    with pytest.raises(ValueError, match="beam_width"):
        _native.decode_batch([ok], ["", "a"], 0, -1, False, options, None, None, None, 0.5, 1.0, -10.0, 1)
    with pytest.raises(ValueError, match="num_threads"):
        _native.decode_batch([ok], ["", "a"], 0, -1, False, _native.DecodeOptions(), None, None, None, 0.5, 1.0, -10.0, 0)


FINITE = st.floats(-40, 5, width=32)
# Vocabularies the decoder must handle on any finite input. The SentencePiece ones are issue 11's
# item 3: a beam that re-spells its text by greedy longest match cannot spell 'abc' with the first
# and returns (3,) instead of (1, 2) with the second.
FUZZ_VOCABULARIES = {
    "letters": ["<pad>", "|", "A", "B", "<unk>"],
    "sentencepiece": ["<pad>", "\u2581a", "bc", "\u2581ab"],
    "sentencepiece-prefix": ["<pad>", "\u2581a", "b", "\u2581ab"],
    "espnet-space": ["<blank>", "<space>", "a", "b", "<unk>"],
}


@st.composite
def decoder_inputs(draw, vocab_size: int):
    """A [2, T, V] batch, all finite half of the time (else with inf/NaN), and lengths (valid or not)."""
    frames = draw(st.integers(0, 10))
    logits = draw(arrays(np.float32, (2, frames, vocab_size), elements=draw(st.sampled_from([FINITE, VALUES]))))
    valid = st.integers(0, frames)
    lengths = draw(st.lists(st.one_of(valid, st.integers(0, 12)) if draw(st.booleans()) else valid, min_size=2, max_size=2))
    return logits, lengths


@pytest.mark.parametrize("labels", FUZZ_VOCABULARIES.values(), ids=FUZZ_VOCABULARIES.keys())
@settings(FUZZ, max_examples=100)
@given(data=st.data(), beam_width=st.integers(1, 30), nbest=st.integers(1, 4))
def test_native_decoder_returns_hypotheses_or_an_input_error_about_the_input(labels, data, beam_width, nbest):
    vocab = Vocabulary.from_labels(labels)
    logits, lengths = data.draw(decoder_inputs(len(labels)))
    decoder = build_decoder("native", vocab, beam_width=beam_width, num_workers=2, token_top_k=2)
    try:
        result = decoder.decode(logits, lengths, nbest=nbest)
    except VocabularyError:
        raise  # the vocabulary fits these logits: a VocabularyError is the decoder's own failure
    except InputError as exc:
        bad_input = not np.isfinite(logits).all() or any(n > logits.shape[1] for n in lengths)
        assert bad_input, f"InputError on finite logits with valid lengths {lengths}: {exc}"
        return
    assert len(result) == 2
    for hyps in result:
        assert 1 <= len(hyps) <= nbest
        for h in hyps:
            assert "<unk>" not in h.text and "<space>" not in h.text and not math.isnan(h.score)
            assert vocab.text(h.tokens) == h.text, (h.tokens, h.text)


# ---------------------------------------------------------------- differential: native == pyctcdecode 0.5
CHAR_LABELS = ["", " ", "l", "o", "k", "i", "n", "g", "a", "t", "e"]
BPE_LABELS = ["", "\u2581lo", "ok", "ing", "\u2581on", "\u2581a", "\u2581", "li", "ttle", "\u2581x", "e\u2581"]


@pytest.fixture(scope="module")
def reference_lm(shared):
    kenlm = require_module("kenlm")
    from pyctcdecode.language_model import load_unigram_set_from_arpa

    path = str(shared.path("kenlm/test.arpa"))
    return path, kenlm.Model(path), load_unigram_set_from_arpa(path), _native.NgramLM(path)


@pytest.mark.extra("pyctcdecode", "kenlm")
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bpe=st.booleans(),
    vocab_size=st.integers(3, 11),
    frames=st.integers(1, 20),
    scale=st.sampled_from([1.0, 3.0, 6.0]),
    seed=st.integers(0, 2**32 - 1),
    use_lm=st.booleans(),
    hotwords=st.sampled_from([None, ["look", "on"], ["a"], ["lit"]]),
    width=st.sampled_from([1, 3, 10, 50]),
    prune=st.sampled_from([-10.0, -1000.0, -3.0]),
    token_min=st.sampled_from([-5.0, -1000.0, -2.0]),
    prune_history=st.booleans(),
)
def test_native_nbest_texts_scores_and_frames_equal_pyctcdecode(
    reference_lm, bpe, vocab_size, frames, scale, seed, use_lm, hotwords, width, prune, token_min, prune_history
):
    import logging

    from pyctcdecode.alphabet import Alphabet
    from pyctcdecode.decoder import BeamSearchDecoderCTC
    from pyctcdecode.language_model import LanguageModel

    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    use_lm = use_lm and not bpe
    labels = (BPE_LABELS if bpe else CHAR_LABELS)[:vocab_size]
    x = np.random.default_rng(seed).normal(0, scale, (frames, vocab_size)).astype(np.float32)
    x = x - np.log(np.exp(x).sum(1, keepdims=True))
    _, kenlm_model, unigrams, native_lm = reference_lm
    language_model = LanguageModel(kenlm_model, unigrams, alpha=0.5, beta=1.0, unk_score_offset=-10.0) if use_lm else None
    want = BeamSearchDecoderCTC(Alphabet(labels, bpe), language_model).decode_beams(
        x, beam_width=width, beam_prune_logp=prune, token_min_logp=token_min, hotwords=hotwords, hotword_weight=7.0,
        prune_history=prune_history,
    )
    options = _native.DecodeOptions()
    options.beam_width, options.beam_prune_logp, options.token_min_logp = width, prune, token_min
    options.hotwords = [w for h in hotwords or [] for w in h.split()]
    options.hotword_weight, options.nbest = 7.0, 10_000
    options.prune_history, options.history_order = prune_history, native_lm.order if use_lm else 1
    options.pyctcdecode_quirks = True  # exact pyctcdecode 0.5 behaviour (lm_rules="pyctcdecode"), frames included
    got = _native.decode_batch(
        [x], labels, 0, -1 if bpe else 1, bpe, options, native_lm if use_lm else None, None, None, 0.5, 1.0, -10.0, 1
    )[0]
    assert [" ".join(b[0].split()) for b in got] == [b[0] for b in want]
    assert [[f for _, f in zip(b[0].split(), b[1])] for b in got] == [[f for _, f in b[2]] for b in want]
    assert [b[3] for b in got] == pytest.approx([b[4] for b in want], abs=1e-3)
