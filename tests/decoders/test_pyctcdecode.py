"""The pyctcdecode beam-search backend."""

from __future__ import annotations

import logging
import sys
import threading

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.labels import pyctcdecode_labels
from ctcdecode_kit.errors import InputError, LanguageModelError
from tests.conftest import FlatLM

pytestmark = pytest.mark.extra("pyctcdecode")


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


# ---------------------------------------------------------------- worker processes (issue 11, item 9)
WORKER_LM_MODULE = '''
import os
from ctcdecode_kit.lm import LanguageModelBase

IMPORTED_IN = os.getpid()


class ForkDetectingLM(LanguageModelBase):
    """Refuses to score in a process that inherited this module through fork instead of importing it."""

    order = 1

    def begin(self):
        return ()

    def score(self, state, word):
        if os.getpid() != IMPORTED_IN:
            raise RuntimeError("this worker process was forked from the decoding process")
        return -1.0, ()

    def end(self, state):
        return 0.0
'''


@pytest.fixture()
def worker_lm_module(tmp_path, monkeypatch):
    """A module of LMs that worker processes can import (its folder is on sys.path, which workers inherit)."""
    import importlib

    (tmp_path / "worker_lms_for_tests.py").write_text(WORKER_LM_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("worker_lms_for_tests")
    yield module
    sys.modules.pop("worker_lms_for_tests", None)


def _two_utterances(shared):
    logits = shared.wav2vec2_logits()[0][:150]
    return np.stack([logits, logits[::-1].copy()])


def test_worker_processes_are_started_fresh_not_forked_from_the_decoding_process(shared, worker_lm_module):
    vocab, batch = shared.wav2vec2_vocab(), _two_utterances(shared)
    lm = worker_lm_module.ForkDetectingLM()
    serial = build_decoder("pyctcdecode", vocab, beam_width=8, lm=lm, num_workers=1).decode(batch)
    with build_decoder("pyctcdecode", vocab, beam_width=8, lm=lm, num_workers=2) as decoder:
        assert decoder.decode(batch) == serial
        assert decoder.start_method in ("forkserver", "spawn")


def test_spawned_workers_load_a_kenlm_file_again_and_decode_like_this_process(shared):
    vocab, batch = shared.wav2vec2_vocab(), _two_utterances(shared)
    options = {"beam_width": 8, "lm": str(shared.path("librispeech-lm/3-gram.pruned.arpa"))}
    serial = build_decoder("pyctcdecode", vocab, num_workers=1, **options).decode(batch, nbest=3)
    with build_decoder("pyctcdecode", vocab, num_workers=2, start_method="spawn", **options) as decoder:
        assert decoder.decode(batch, nbest=3) == serial


class _UnpicklableLM(FlatLM):
    def __init__(self):
        self.lock = threading.Lock()


def test_an_unpicklable_lm_with_explicit_workers_is_refused_naming_it(shared):
    with pytest.raises(LanguageModelError, match=r"num_workers=2 .* the LM _UnpicklableLM cannot be pickled"):
        build_decoder("pyctcdecode", shared.wav2vec2_vocab(), lm=_UnpicklableLM(), num_workers=2)


def test_an_unpicklable_lm_with_default_workers_decodes_in_this_process_with_a_warning(shared):
    vocab, batch = shared.wav2vec2_vocab(), _two_utterances(shared)
    lm = _UnpicklableLM()
    with pytest.warns(UserWarning, match="_UnpicklableLM cannot be pickled .* decodes in this process"):
        decoder = build_decoder("pyctcdecode", vocab, beam_width=8, lm=lm)
    assert decoder.decode(batch) == build_decoder("pyctcdecode", vocab, beam_width=8, lm=lm, num_workers=1).decode(batch)
    assert decoder._workers is None


class _FailsToLoadInWorkers(_UnpicklableLM):
    def __init__(self):
        pass

    def __reduce__(self):
        return (int, ("not a language model",))  # pickles fine, fails when a worker unpickles it


def test_an_lm_that_a_worker_cannot_rebuild_gives_a_clear_error(shared):
    vocab, batch = shared.wav2vec2_vocab(), _two_utterances(shared)
    with build_decoder("pyctcdecode", vocab, beam_width=8, lm=_FailsToLoadInWorkers(), num_workers=2) as decoder:
        with pytest.raises(LanguageModelError, match=r"worker process could not rebuild .*_FailsToLoadInWorkers.*ValueError"):
            decoder.decode(batch)


def test_an_unknown_start_method_is_refused():
    with pytest.raises(InputError, match="start_method must be one of"):
        build_decoder("pyctcdecode", ["<pad>", "|", "a"], start_method="thread")


# ---------------------------------------------------------------- with_options (issue 11)
def test_with_options_derives_a_new_decoder_sharing_the_loaded_lm(shared, monkeypatch):
    from ctcdecode_kit.lm import KenLM

    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    decoder = build_decoder("pyctcdecode", vocab, beam_width=16, num_workers=1, alpha=0.5,
                            lm=str(shared.path("librispeech-lm/3-gram.pruned.arpa")))
    before = decoder.decode(logits, nbest=3)
    loads = []
    monkeypatch.setattr(KenLM, "__init__", lambda self, *a, **k: loads.append(a))
    derived = decoder.with_options(alpha=2.0, beta=0.0)
    assert loads == []
    assert derived is not decoder and derived._lm.language_model is decoder._lm.language_model
    assert (derived.alpha, derived.beta, decoder.alpha, decoder.beta) == (2.0, 0.0, 0.5, 1.0)
    assert decoder.decode(logits, nbest=3) == before
    rebuilt = build_decoder("pyctcdecode", vocab, beam_width=16, num_workers=1, alpha=2.0, beta=0.0,
                            lm=decoder._lm.language_model)
    assert derived.decode(logits, nbest=3) == rebuilt.decode(logits, nbest=3) != before


# ---------------------------------------------------------------- emitted tokens and word frames (issue 11, items 3, 8)
@pytest.mark.parametrize(
    ("labels", "text"),
    [(["<pad>", "\u2581a", "bc", "\u2581ab"], "abc"), (["<pad>", "\u2581a", "b", "\u2581ab"], "ab")],
)
def test_subword_tokens_are_the_best_alignment_of_the_text_not_a_respelling(labels, text):
    vocab = Vocabulary.from_labels(labels)
    log_probs = np.log(np.array([[.1, .7, .1, .1], [.1, .1, .7, .1], [.7, .1, .1, .1]], np.float32))
    best = build_decoder("pyctcdecode", vocab, beam_width=10, num_workers=1).decode(log_probs)[0][0]
    assert (best.text, best.tokens) == (text, (1, 2))
    assert [(w.text, w.start_frame, w.end_frame) for w in best.words] == [(text, 0, 2)]


def test_word_frames_on_real_logits_are_greedys_when_the_text_is(shared):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    greedy = build_decoder("greedy", vocab, frame_rate=50).decode(logits)[0][0]
    lm = str(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    for options in ({}, {"lm": lm}):
        beam = build_decoder("pyctcdecode", vocab, frame_rate=50, num_workers=1, **options).decode(logits)[0][0]
        assert beam.text == greedy.text and beam.tokens == greedy.tokens
        assert beam.words == greedy.words
    assert (beam.words[0].text, beam.words[0].start_frame, beam.words[0].end_frame) == ("ALSO", 17, 34)


def test_every_hypothesis_of_the_nbest_list_has_tokens_spelling_its_text(shared):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    hyps = build_decoder("pyctcdecode", vocab, beam_width=16, num_workers=1).decode(logits, nbest=8)[0]
    assert len({h.text for h in hyps}) == len(hyps) > 1
    for h in hyps:
        assert vocab.text(h.tokens) == h.text
        assert [w.text for w in h.words] == h.text.split()
        assert all(w.start_frame < w.end_frame for w in h.words)


def test_a_mixed_case_vocabulary_with_a_lowercase_lm_keeps_the_vocabularys_spelling():
    from ctcdecode_kit.lm import NullLM

    class Lower(NullLM):
        case = "lower"

    vocab = Vocabulary.from_labels(["<pad>", "|", "a", "B"])
    log_probs = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]], np.float32))
    best = build_decoder("pyctcdecode", vocab, lm=Lower(), num_workers=1).decode(log_probs)[0][0]
    assert (best.text, best.tokens) == ("aB", (2, 3))


def test_decoders_derived_for_new_weights_share_the_worker_processes_and_use_their_own_weights(shared):
    vocab, batch = shared.wav2vec2_vocab(), _two_utterances(shared)
    batch = batch + np.random.default_rng(0).normal(scale=2.0, size=batch.shape).astype(np.float32)
    options = {"beam_width": 8, "lm": str(shared.path("librispeech-lm/3-gram.pruned.arpa"))}
    with build_decoder("pyctcdecode", vocab, num_workers=2, **options) as decoder:
        first = decoder.decode(batch, nbest=2)
        derived = [decoder.with_options(alpha=a, beta=b, hotwords=h) for a, b, h in
                   [(2.0, 0.0, None), (0.0, 3.0, None), (0.5, 1.0, ["POPULAR"])]]
        assert all(d._workers is decoder._workers for d in derived)
        for d in derived:
            alone = d.with_options(num_workers=1).decode(batch, nbest=2)
            assert d.decode(batch, nbest=2) == alone != first
            d.close()
        assert decoder._workers.started and decoder.decode(batch, nbest=2) == first
    assert not decoder._workers.started


def test_a_text_no_path_spells_still_gets_tokens_that_spell_it():
    # pyctcdecode's shared word-break flag (set by a lone "▁" on another beam) splits "ab"
    # into "a b" in 2 frames, which no CTC path of 2 frames spells (it needs a, ▁, b)
    vocab = Vocabulary.from_labels(["<pad>", "a", "\u2581", "b"])
    logits = np.array([[0.0, 1.0014286, 0.00285714, 0.00428571], [0.00571429, 0.00714286, 0.00857143, 0.01]], np.float32)
    for hyp in build_decoder("pyctcdecode", vocab, beam_width=6, input_type="logits").decode(logits, nbest=3)[0]:
        assert vocab.text(hyp.tokens) == hyp.text
        assert [w.text for w in hyp.words] == hyp.text.split()
