"""AcousticModel on tiny randomly initialised CTC models saved with save_pretrained.

The models come from the ``make_tiny_model`` fixture (tests/conftest.py): wav2vec2-base's
conv geometry (320 samples per frame, 50 frames/s), hidden size 32, the 32-token
wav2vec2-base-960h vocabulary, loaded through the same ``from_pretrained`` path as a hub model.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from ctcdecode_kit import AcousticModel, Emissions, Vocabulary
from ctcdecode_kit.errors import AudioError, InputError, MissingFileError, VocabularyError


def _noise(*lengths: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]


@pytest.fixture(scope="module")
def group_model(tiny_model_dir) -> AcousticModel:
    """Like wav2vec2-base-960h: group-norm feature encoder, no attention mask."""
    return AcousticModel.from_pretrained(tiny_model_dir, device="cpu")


@pytest.fixture(scope="module")
def layer_model(make_tiny_model) -> AcousticModel:
    """Like wav2vec2-large-lv60: layer-norm feature encoder, takes an attention mask."""
    return AcousticModel.from_pretrained(make_tiny_model(feat_extract_norm="layer"), device="cpu")


def test_from_pretrained_exposes_vocabulary_rates_device_and_eval_mode(group_model, shared):
    assert group_model.vocabulary == Vocabulary.from_file(shared.path("wav2vec2-logits/vocab.json"))
    assert group_model.sampling_rate == 16000
    assert group_model.frame_rate == 50.0  # 16000 / (5 * 2**6), as for wav2vec2-base
    assert group_model.device == torch.device("cpu") and group_model.dtype == torch.float32
    assert not group_model.model.training
    assert group_model.min_samples == 400  # the conv receptive field


def test_hubert_ctc_model_loads_through_the_same_path(make_tiny_model):
    model = AcousticModel.from_pretrained(make_tiny_model(architecture="hubert"), device="cpu")
    assert type(model.model).__name__ == "HubertForCTC"
    emissions = model.logits(_noise(16000))
    assert tuple(emissions.logits.shape) == (1, 49, 32)


def test_group_norm_model_is_called_without_attention_mask_and_layer_norm_model_with_one(group_model, layer_model, monkeypatch):
    for model, expected in ((group_model, False), (layer_model, True)):
        seen = []
        forward = model.model.forward
        monkeypatch.setattr(model.model, "forward", lambda *a, _f=forward, **k: seen.append(set(k)) or _f(*a, **k))
        model.logits(_noise(8000, 12000))
        monkeypatch.undo()
        assert model.use_attention_mask is expected
        assert seen == [{"input_values", "attention_mask"} if expected else {"input_values"}]


def test_single_utterance_logits_equal_the_model_card_recipe(group_model):
    audio = _noise(24000)[0]
    inputs = group_model.feature_extractor(audio, sampling_rate=16000, return_tensors="pt", padding="longest").input_values
    with torch.no_grad():
        expected = group_model.model(inputs).logits[0]
    torch.testing.assert_close(group_model.logits(audio).utterance(0), expected)


def test_lengths_are_the_models_own_output_lengths_in_input_order(group_model):
    lengths = [16000, 4000, 30001, 400]
    emissions = group_model.logits(_noise(*lengths), batch_size=2)
    expected = group_model.model._get_feat_extract_output_lengths(torch.tensor(lengths))
    assert emissions.lengths.dtype == torch.int64
    assert emissions.lengths.tolist() == expected.tolist() == [49, 12, 93, 1]
    assert emissions.indices == (0, 1, 2, 3)
    assert tuple(emissions.logits.shape) == (4, 93, 32)


def test_frames_past_each_length_are_zero(group_model):
    emissions = group_model.logits(_noise(16000, 4000))
    assert emissions.logits[1, 12:].abs().sum() == 0
    assert emissions.logits[1, :12].abs().sum() > 0


def test_padded_batch_logits_equal_single_utterance_logits_with_attention_mask(layer_model):
    audios = _noise(16000, 5000, 23456, 900)
    batch = layer_model.logits(audios, batch_size=4)
    for i, audio in enumerate(audios):
        alone = layer_model.logits(audio).utterance(0)
        torch.testing.assert_close(batch.utterance(i), alone, atol=1e-5, rtol=1e-4)


def test_iter_logits_yields_each_utterance_once_longest_first(group_model):
    lengths = [4000, 20000, 8000, 12000, 16000]
    batches = list(group_model.iter_logits(_noise(*lengths), batch_size=2))
    assert [b.indices for b in batches] == [(1, 4), (3, 2), (0,)]
    assert all(isinstance(b, Emissions) and b.frame_rate == 50.0 for b in batches)
    assert [b.lengths.tolist() for b in batches] == [[62, 49], [37, 24], [12]]


@pytest.fixture(scope="module")
def local_model(make_tiny_model) -> AcousticModel:
    """No attention layers: each frame sees only the conv receptive field (400 samples) plus the
    positional conv (16 frames, +-8 frames); per-frame layer norm and no per-utterance
    normalisation keep the features local too. Strides of >= 0.2 s (10 frames) cover all that,
    so chunked logits must equal unchunked logits at every frame, not just away from the edges."""
    folder = make_tiny_model(feat_extract_norm="layer", num_hidden_layers=0, do_normalize=False)
    return AcousticModel.from_pretrained(folder, device="cpu")


def test_chunked_logits_equal_unchunked_logits_for_a_local_receptive_field(local_model):
    audio = _noise(7 * 16000 + 1234)[0]
    whole = local_model.logits(audio, chunk_length_s=None)
    chunked = local_model.logits(audio, chunk_length_s=2.0, stride_length_s=0.4, batch_size=3)
    assert chunked.lengths.tolist() == whole.lengths.tolist() == [353]
    torch.testing.assert_close(chunked.logits, whole.logits, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("samples", [16001, 16319, 16320, 16321, 22399, 28800, 40017, 50000])
def test_chunk_stitching_tiles_every_length_exactly(local_model, samples):
    audio = _noise(samples, seed=samples)[0]
    whole = local_model.logits(audio, chunk_length_s=None)
    chunked = local_model.logits(audio, chunk_length_s=1.0, stride_length_s=(0.2, 0.24))
    assert chunked.lengths.tolist() == whole.lengths.tolist()
    torch.testing.assert_close(chunked.logits, whole.logits, atol=1e-5, rtol=1e-4)


def test_chunked_logits_keep_the_unchunked_length_with_attention_layers(group_model):
    audios = _noise(5 * 16000 + 77, 16000)
    chunked = group_model.logits(audios, chunk_length_s=1.5, stride_length_s=(0.25, 0.3))
    whole = group_model.logits(audios, chunk_length_s=None)
    assert chunked.lengths.tolist() == whole.lengths.tolist()
    assert torch.isfinite(chunked.logits).all()


def test_real_librispeech_file_is_read_and_chunked(group_model, shared):
    path = shared.path("librispeech-audio/1995-1837-0001.wav")
    emissions = group_model.logits([path], chunk_length_s=3.0)
    samples = sf.info(path).frames
    assert emissions.lengths.tolist() == group_model.output_lengths([samples]).tolist()


def test_strides_shorter_than_the_receptive_field_are_refused(group_model):
    with pytest.raises(InputError, match="receptive field"):
        group_model.logits(_noise(48000), chunk_length_s=1.0, stride_length_s=0.0)


def test_chunk_not_longer_than_its_strides_is_refused(group_model):
    with pytest.raises(InputError, match="longer than the two strides"):
        group_model.logits(_noise(48000), chunk_length_s=1.0, stride_length_s=0.5)


def test_wrong_sampling_rate_is_refused_unless_resampling_is_asked(group_model):
    audio = _noise(8000)[0]
    with pytest.raises(InputError, match="sampled at 8000 Hz.*expects 16000 Hz.*resample=True"):
        group_model.logits(audio, sampling_rate=8000)
    assert group_model.logits(audio, sampling_rate=8000, resample=True).lengths.tolist() == [49]


def test_audio_paths_are_decoded_at_the_model_rate(group_model, tmp_path):
    path = tmp_path / "eight_k.wav"
    sf.write(path, _noise(8000)[0], 8000)
    assert group_model.logits([str(path)]).lengths.tolist() == [49]


def test_missing_audio_path_fails_before_any_forward_pass(group_model, tmp_path):
    with pytest.raises(MissingFileError, match="gone.wav"):
        group_model.logits([_noise(16000)[0], tmp_path / "gone.wav"])


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (np.zeros((2, 16000), np.float32), r"shape \(2, 16000\); expected a 1-D mono"),
        (np.zeros(16000, np.int16), "dtype int16; expected float"),
        (np.zeros(0, np.float32), "empty"),
        (np.full(16000, np.nan, np.float32), "NaN"),
        (np.zeros(399, np.float32), "399 samples.*at least 400"),
    ],
)
def test_bad_waveforms_are_refused_with_the_reason(group_model, audio, message):
    with pytest.raises(InputError, match=message):
        group_model.logits([audio])


def test_too_short_audio_file_is_refused_naming_it(group_model, tmp_path):
    path = tmp_path / "click.wav"
    sf.write(path, np.zeros(100, np.float32), 16000)
    with pytest.raises(AudioError, match="click.wav.*100 samples"):
        group_model.logits([path])


def test_model_folder_without_ctc_head_is_refused(make_tiny_model):
    with pytest.raises(InputError, match="Wav2Vec2Model without a CTC head"):
        AcousticModel.from_pretrained(make_tiny_model(ctc_head=False), device="cpu")


def test_model_folder_without_tokenizer_is_refused_unless_a_vocabulary_is_given(make_tiny_model, shared):
    folder = make_tiny_model(tokenizer=False)
    with pytest.raises(VocabularyError, match="has no tokenizer"):
        AcousticModel.from_pretrained(folder, device="cpu")
    vocabulary = Vocabulary.from_file(shared.path("wav2vec2-logits/vocab.json"))
    assert AcousticModel.from_pretrained(folder, device="cpu", vocabulary=vocabulary).vocabulary is vocabulary


def test_missing_model_folder_and_folder_without_config_are_refused(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        AcousticModel.from_pretrained(tmp_path / "no-model")
    with pytest.raises(MissingFileError, match="no config.json"):
        AcousticModel.from_pretrained(tmp_path)


def test_float16_on_cpu_is_refused(tiny_model_dir):
    with pytest.raises(InputError, match="float16 needs a GPU"):
        AcousticModel.from_pretrained(tiny_model_dir, device="cpu", dtype="float16")


def test_bfloat16_model_returns_float32_logits(tiny_model_dir):
    model = AcousticModel.from_pretrained(tiny_model_dir, device="cpu", dtype=torch.bfloat16)
    emissions = model.logits(_noise(16000))
    assert model.model.dtype == torch.bfloat16 and emissions.logits.dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_cuda_request_without_cuda_is_refused(tiny_model_dir):
    with pytest.raises(InputError, match="CUDA is not available"):
        AcousticModel.from_pretrained(tiny_model_dir, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_default_device_is_cuda_with_half_precision_logits_close_to_float32(tiny_model_dir):
    reference = AcousticModel.from_pretrained(tiny_model_dir, device="cpu").logits(_noise(16000))
    model = AcousticModel.from_pretrained(tiny_model_dir, dtype="float16")
    emissions = model.logits(_noise(16000))
    assert emissions.logits.device.type == "cuda" and emissions.logits.dtype == torch.float32
    torch.testing.assert_close(emissions.logits.cpu(), reference.logits, atol=5e-2, rtol=5e-2)


def test_emissions_give_unpadded_numpy_rows(group_model):
    rows = group_model.logits(_noise(16000, 4000)).numpy()
    assert [r.shape for r in rows] == [(49, 32), (12, 32)] and rows[0].dtype == np.float32


def test_long_recording_is_fed_to_the_model_in_chunks_no_longer_than_chunk_length(group_model, monkeypatch):
    widths = []
    forward = group_model.model.forward
    monkeypatch.setattr(group_model.model, "forward", lambda *a, **k: widths.append(k["input_values"].shape) or forward(*a, **k))
    minute = _noise(60 * 16000 + 555)[0]
    emissions = group_model.logits(minute, chunk_length_s=30.0, stride_length_s=5.0)
    assert widths == [(3, 30 * 16000)]  # chunks at 0, 20 and 30.04 s: the last one ends where the audio ends
    assert emissions.lengths.tolist() == group_model.output_lengths([minute.shape[0]]).tolist() == [3001]


def test_default_device_is_cuda_when_available(monkeypatch):
    from ctcdecode_kit.acoustic import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")
