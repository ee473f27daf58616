"""Input checking at the decoder boundary: ranks, dtypes, NaN/inf, probabilities, lengths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ctcdecode_kit.errors import InputError
from ctcdecode_kit.inputs import prepare_log_probs


def _logits(*shape):
    return np.random.default_rng(0).normal(size=shape).astype(np.float32)


def test_2d_input_gets_a_batch_dimension_and_full_length():
    batch = prepare_log_probs(_logits(6, 4), None, vocab_size=4)
    assert batch.log_probs.shape == (1, 6, 4) and batch.lengths.tolist() == [6]


def test_output_is_normalised_log_probs_and_log_probs_are_unchanged():
    x = _logits(2, 5, 4)
    batch = prepare_log_probs(x, None, vocab_size=4)
    assert torch.allclose(batch.log_probs.exp().sum(-1), torch.ones(2, 5), atol=1e-5)
    again = prepare_log_probs(batch.log_probs, None, vocab_size=4)
    assert torch.allclose(again.log_probs, batch.log_probs, atol=1e-6)


@pytest.mark.parametrize("shape", [(4,), (1, 1, 2, 4)])
def test_wrong_rank_is_refused_with_shape(shape):
    with pytest.raises(InputError, match=r"2-D \[T, V\] or 3-D \[B, T, V\].*" + str(shape).replace("(", r"\(").replace(")", r"\)")):
        prepare_log_probs(np.zeros(shape, np.float32), None, vocab_size=4)


def test_vocab_size_mismatch_names_both_sizes():
    with pytest.raises(InputError, match=r"31 classes .*\(1, 3, 31\).* 32 tokens"):
        prepare_log_probs(np.zeros((1, 3, 31), np.float32), None, vocab_size=32)


def test_nan_is_refused_with_position():
    x = _logits(2, 3, 4)
    x[1, 2, 0] = np.nan
    with pytest.raises(InputError, match="NaN .*utterance 1, frame 2"):
        prepare_log_probs(x, None, vocab_size=4)


def test_positive_inf_is_refused():
    x = _logits(3, 4)
    x[0, 1] = np.inf
    with pytest.raises(InputError, match=r"\+inf"):
        prepare_log_probs(x, None, vocab_size=4)


def test_negative_inf_is_accepted_as_log_zero():
    x = _logits(3, 4)
    x[:, 1] = -np.inf
    batch = prepare_log_probs(x, None, vocab_size=4)
    assert torch.isneginf(batch.log_probs[0, :, 1]).all()


def test_frame_of_only_negative_inf_is_refused():
    x = _logits(3, 4)
    x[1, :] = -np.inf
    with pytest.raises(InputError, match="frame 1 .*every class"):
        prepare_log_probs(x, None, vocab_size=4)


def test_nan_in_padding_beyond_lengths_is_ignored():
    x = _logits(1, 4, 3)
    x[0, 3] = np.nan
    assert prepare_log_probs(x, [3], vocab_size=3).lengths.tolist() == [3]


def test_probabilities_are_detected_and_refused():
    p = torch.softmax(torch.tensor(_logits(5, 4)), -1).numpy()
    with pytest.raises(InputError, match="look like probabilities.*input_type='probs'"):
        prepare_log_probs(p, None, vocab_size=4)


def test_probabilities_are_accepted_when_declared():
    p = torch.softmax(torch.tensor(_logits(5, 4)), -1)
    batch = prepare_log_probs(p, None, vocab_size=4, input_type="probs")
    assert torch.allclose(batch.log_probs.exp(), p.unsqueeze(0), atol=1e-5)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_dtypes_are_refused(dtype):
    with pytest.raises(InputError, match="floating point"):
        prepare_log_probs(np.zeros((3, 4), dtype=dtype), None, vocab_size=4)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_half_and_double_precision_are_upcast_to_float32(dtype):
    batch = prepare_log_probs(torch.zeros(3, 4, dtype=dtype), None, vocab_size=4)
    assert batch.log_probs.dtype == torch.float32


def test_empty_batch_is_refused():
    with pytest.raises(InputError, match="empty batch"):
        prepare_log_probs(np.zeros((0, 3, 4), np.float32), None, vocab_size=4)


def test_zero_frames_are_accepted():
    batch = prepare_log_probs(np.zeros((2, 0, 4), np.float32), None, vocab_size=4)
    assert batch.lengths.tolist() == [0, 0]


@pytest.mark.parametrize(
    "lengths, message",
    [
        ([5, 9], r"exceed the number of frames T=5"),
        ([3, -1], "must be >= 0"),
        ([3], r"expected shape \(2,\), got \(1,\)"),
        ([3.0, 2.0], "must hold integers"),
        ("ab", "integers"),
    ],
)
def test_bad_lengths_are_refused(lengths, message):
    with pytest.raises(InputError, match=message):
        prepare_log_probs(_logits(2, 5, 4), lengths, vocab_size=4)


def test_non_array_input_is_refused_with_type():
    with pytest.raises(InputError, match="got list"):
        prepare_log_probs([[0.0, 1.0]], None, vocab_size=2)


def test_non_contiguous_numpy_input_is_accepted():
    x = _logits(4, 6)[:, ::2]
    assert prepare_log_probs(x, None, vocab_size=3).log_probs.shape == (1, 4, 3)
