"""The embedded offline default: shipped model, held-out audio and LM give real results."""

from __future__ import annotations

import pytest

from ctcdecode_kit import AcousticModel, load_dataset, transcribe
from ctcdecode_kit.runs.compare import compare
from ctcdecode_kit.default import default_assets
from ctcdecode_kit.metrics import score

CER_TARGET = 0.15


@pytest.fixture(scope="module")
def assets():
    return default_assets()


@pytest.fixture(scope="module")
def model(assets):
    return AcousticModel.from_pretrained(assets.model_dir, device="cpu")


def test_shipped_assets_are_small_enough(assets):
    model_bytes = sum(p.stat().st_size for p in assets.model_dir.iterdir())
    eval_bytes = sum(p.stat().st_size for p in assets.eval_dir.iterdir())
    assert model_bytes < 20e6 and eval_bytes < 10e6 and assets.lm_path.stat().st_size < 10e6
    assert 50 <= len(load_dataset(assets.eval_dir)) <= 200


def test_shipped_model_has_the_wav2vec2_vocabulary_and_frame_rate(model, shared):
    assert model.vocabulary == shared.wav2vec2_vocab() and model.frame_rate == 50.0


def test_shipped_model_transcribes_held_out_utterances_below_the_cer_target(assets, model):
    data = load_dataset(assets.eval_dir)
    utterances = list(data)[:5]
    hyps = transcribe([u.path for u in utterances], model=model)
    assert score([u.reference for u in utterances], hyps).cer < CER_TARGET
    assert all(w.end_time is not None for h in hyps for w in h.words)


def test_beam_search_with_the_shipped_lm_beats_greedy(assets, model):
    data = list(load_dataset(assets.eval_dir))[:25]
    result = compare(data, decoders=["greedy", "native+lm"], model=model, lm=assets.lm_path, batch_size=25)
    greedy, fused = result.results
    assert fused.wer < 0.85 * greedy.wer  # at least 15 % relative
