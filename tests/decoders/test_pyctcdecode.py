"""The pyctcdecode beam-search backend."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.labels import pyctcdecode_labels
from ctcdecode_kit.errors import InputError


def test_real_wav2vec2_logits_beam_100_gives_the_librispeech_reference(shared):
    decoder = build_decoder("pyctcdecode", shared.wav2vec2_vocab(), beam_width=100, frame_rate=50)
    hyps = decoder.decode(shared.wav2vec2_logits(), nbest=3)[0]
    assert hyps[0].text == shared.wav2vec2_reference()
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
    assert hyps[0].words[0].text == "ALSO" and hyps[0].words[0].start_time is not None


def test_pyctcdecode_sample_with_blank_last(shared):
    vocab = Vocabulary.from_labels(shared.LIBRI_LABELS)
    assert build_decoder("pyctcdecode", vocab).decode(shared.libri_logits())[0][0].text == shared.LIBRI_TEXT


def test_padded_batch_of_both_real_samples_equals_each_alone(shared):
    vocab = shared.wav2vec2_vocab()
    a = shared.wav2vec2_logits()[0]
    b = a[100:300] + np.random.default_rng(0).normal(scale=2.0, size=(200, 32)).astype(np.float32)
    padded = np.zeros((2, len(a), 32), np.float32)
    padded[0], padded[1, : len(b)] = a, b
    decoder = build_decoder("pyctcdecode", vocab, beam_width=20, num_workers=2)
    together = [hyps[0].text for hyps in decoder.decode(padded, [len(a), len(b)])]
    alone = [decoder.decode(a)[0][0].text, decoder.decode(b)[0][0].text]
    decoder.close()
    assert together == alone and together[0] == shared.wav2vec2_reference()


def test_parallel_and_serial_batches_agree(shared):
    vocab = shared.wav2vec2_vocab()
    rng = np.random.default_rng(1)
    base = shared.wav2vec2_logits()[0]
    batch = np.stack([base + rng.normal(scale=1.5, size=base.shape).astype(np.float32) for _ in range(4)])
    with build_decoder("pyctcdecode", vocab, beam_width=10, num_workers=2) as parallel:
        many = parallel.decode(batch)
    serial = build_decoder("pyctcdecode", vocab, beam_width=10, num_workers=1).decode(batch)
    assert many == serial


def test_alphabet_maps_blank_delimiter_and_specials_without_warnings(shared, caplog):
    vocab = shared.wav2vec2_vocab()
    labels = pyctcdecode_labels(vocab)
    assert labels[0] == "" and labels[4] == " " and all(len(label) <= 1 for label in labels)
    with caplog.at_level(logging.WARNING, logger="pyctcdecode"):
        build_decoder("pyctcdecode", vocab)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_beam_width_one_equals_greedy_on_real_logits(shared):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    beam = build_decoder("pyctcdecode", vocab, beam_width=1).decode(logits)[0][0]
    assert beam.text == build_decoder("greedy", vocab).decode(logits)[0][0].text


def test_hypothesis_tokens_spell_the_text(shared):
    vocab = shared.wav2vec2_vocab()
    hyp = build_decoder("pyctcdecode", vocab).decode(shared.wav2vec2_logits())[0][0]
    assert vocab.text(hyp.tokens) == hyp.text


def test_kenlm_path_is_used_with_case_mapping(shared):
    vocab = shared.wav2vec2_vocab()
    decoder = build_decoder(
        "pyctcdecode", vocab, lm=str(shared.path("librispeech-lm/3-gram.pruned.arpa")), alpha=0.5, beta=1.0
    )
    hyp = decoder.decode(shared.wav2vec2_logits())[0][0]
    assert hyp.text.isupper() and hyp.lm_score < 0
    assert hyp.score == pytest.approx(hyp.am_score + 0.5 * hyp.lm_score + 1.0 * len(hyp.words), abs=1.0)


@pytest.mark.parametrize("width", [0, -3, 10_001, 2.5])
def test_bad_beam_width_is_refused(width):
    with pytest.raises(InputError, match="beam_width"):
        build_decoder("pyctcdecode", ["<pad>", "|", "a"], beam_width=width)


def test_hotwords_are_matched_in_the_lms_letter_case(shared):
    vocab = shared.wav2vec2_vocab()
    lm = str(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    decoder = build_decoder("pyctcdecode", vocab, lm=lm, hotwords=["PICNIC"], hotword_weight=5.0)
    assert decoder._settings["hotwords"] == ["picnic"]
    plain = build_decoder("pyctcdecode", vocab, lm=lm).decode(shared.wav2vec2_logits())[0][0]
    boosted = decoder.decode(shared.wav2vec2_logits())[0][0]
    assert boosted.score > plain.score
