"""Greedy (best-path) decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.decoders.greedy import collapse_path

VOCAB = Vocabulary.from_labels(["<pad>", "<unk>", "|", "A", "B", "C"])


def one_hot_logits(path, vocab_size=6, low=-8.0):
    logits = np.full((len(path), vocab_size), low, dtype=np.float32)
    logits[np.arange(len(path)), path] = 0.0
    return logits


def test_collapses_repeats_and_drops_blanks():
    hyp = build_decoder("greedy", VOCAB).decode(one_hot_logits([3, 3, 0, 3, 4, 4, 2, 5]))[0][0]
    assert hyp.text == "AAB C" and hyp.tokens == (3, 3, 4, 2, 5)


def test_special_tokens_never_reach_the_text():
    hyp = build_decoder("greedy", VOCAB).decode(one_hot_logits([1, 3, 1, 2, 4]))[0][0]
    assert hyp.text == "A B" and 1 in hyp.tokens


def test_word_frames_come_from_the_path_and_seconds_from_frame_rate():
    hyp = build_decoder("greedy", VOCAB, frame_rate=50).decode(one_hot_logits([0, 3, 3, 0, 4, 2, 2, 5, 0]))[0][0]
    assert [(w.text, w.start_frame, w.end_frame) for w in hyp.words] == [("AB", 1, 5), ("C", 7, 8)]
    assert (hyp.words[1].start_time, hyp.words[1].end_time) == (0.14, 0.16)


def test_score_is_the_best_path_log_probability():
    logits = np.random.default_rng(0).normal(size=(7, 6)).astype(np.float32)
    hyp = build_decoder("greedy", VOCAB).decode(logits)[0][0]
    expected = torch.log_softmax(torch.tensor(logits), -1).max(-1).values.sum().item()
    assert hyp.score == pytest.approx(expected, abs=1e-4) and hyp.am_score == hyp.score and hyp.lm_score == 0.0


def test_padded_batch_with_lengths_equals_each_alone_numpy_and_torch():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(9, 6)).astype(np.float32), rng.normal(size=(5, 6)).astype(np.float32)
    padded = np.zeros((2, 9, 6), np.float32)
    padded[0], padded[1, :5] = a, b
    padded[1, 5:, 3] = 50.0  # loud padding must be ignored
    decoder = build_decoder("greedy", VOCAB)
    alone = [decoder.decode(a)[0][0], decoder.decode(b)[0][0]]
    for batch in (padded, torch.from_numpy(padded)):
        together = [hyps[0] for hyps in decoder.decode(batch, [9, 5])]
        assert together == alone


def test_collapse_path_of_empty_path_is_empty():
    ids, starts, ends = collapse_path(np.zeros(0, dtype=np.int64), blank=0)
    assert ids.size == starts.size == ends.size == 0


def test_real_wav2vec2_logits_give_the_librispeech_reference(shared):
    decoder = build_decoder("greedy", shared.wav2vec2_vocab(), frame_rate=50)
    hyp = decoder.decode(shared.wav2vec2_logits())[0][0]
    assert hyp.text == shared.wav2vec2_reference()
    assert len(hyp.words) == len(hyp.text.split())
    assert all(0 <= w.start_frame < w.end_frame <= 422 for w in hyp.words)


def test_real_torch_logits_file_gives_the_same_text(shared):
    logits = torch.load(shared.path("wav2vec2-logits-torch/121-121726-0000.pt"), weights_only=True)
    assert build_decoder("greedy", shared.wav2vec2_vocab()).decode(logits)[0][0].text == shared.wav2vec2_reference()


def test_pyctcdecode_sample_with_blank_last(shared):
    vocab = Vocabulary.from_labels(shared.LIBRI_LABELS)
    assert build_decoder("greedy", vocab).decode(shared.libri_logits())[0][0].text == shared.LIBRI_TEXT
