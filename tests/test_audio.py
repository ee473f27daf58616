"""load_audio: formats, PCM types, down-mixing, polyphase resampling, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from ctcdecode_kit.audio import audio_info, load_audio, resample
from ctcdecode_kit.errors import AudioError, InputError, MissingFileError


def _tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(audio.shape[0], 1 / rate)[spectrum.argmax()])


def test_jfk_flac_44k_stereo_24bit_loads_as_mono_16k_float32_of_11_seconds(shared):
    path = shared.path("misc-audio/jfk.flac")
    info = audio_info(path)
    assert (info.sampling_rate, info.channels, info.subtype) == (44100, 2, "PCM_24")
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.shape[0] == -(-info.frames * 160 // 441)  # ceil(frames * 16000 / 44100)
    assert abs(audio.shape[0] / 16000 - 11.0) < 0.05
    assert 0.1 < np.abs(audio).max() <= 1.0


def test_resampling_is_resample_poly_at_the_exact_reduced_ratio():
    tone = _tone(44100)
    out = resample(tone, 44100, 16000)
    np.testing.assert_array_equal(out, resample_poly(tone, 160, 441).astype(np.float32))
    assert abs(_peak_hz(out, 16000) - 440.0) < 2.0


def test_resampled_file_keeps_its_pitch(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, _tone(8000, 1.0, 300.0), 8000)
    audio = load_audio(path, target_rate=16000)
    assert audio.shape == (16000,)
    assert abs(_peak_hz(audio, 16000) - 300.0) < 1.5


def test_target_rate_none_keeps_the_file_rate(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, _tone(22050), 22050)
    assert load_audio(path, target_rate=None).shape == (11025,)


def test_stereo_is_downmixed_by_averaging_the_channels(tmp_path):
    path = tmp_path / "stereo.wav"
    frames = np.stack([np.full(1600, 0.5), np.full(1600, -0.1)], axis=1)
    sf.write(path, frames, 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), np.full(1600, 0.2), atol=1e-6)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_integer_and_float_pcm_wav_load_to_the_same_float_scale(tmp_path, subtype):
    tone = _tone(16000)
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, tone, 16000, subtype=subtype)
    np.testing.assert_allclose(load_audio(path), tone, atol=1e-4)


@pytest.mark.parametrize(("fmt", "subtype", "suffix"), [("FLAC", "PCM_16", "flac"), ("OGG", "VORBIS", "ogg"), ("MP3", "MPEG_LAYER_III", "mp3")])
def test_compressed_formats_decode_to_mono_16k(tmp_path, fmt, subtype, suffix):
    path = tmp_path / f"tone.{suffix}"
    try:
        sf.write(path, _tone(16000, 1.0), 16000, format=fmt, subtype=subtype)
    except (sf.LibsndfileError, ValueError, TypeError) as exc:
        pytest.skip(f"this libsndfile cannot write {fmt}: {exc}")
    audio = load_audio(path)
    assert audio.dtype == np.float32 and abs(audio.shape[0] - 16000) < 2000
    assert abs(_peak_hz(audio, 16000) - 440.0) < 3.0


def test_missing_file_raises_missing_file_error_naming_it(tmp_path):
    with pytest.raises(MissingFileError, match="nope.wav.*does not exist"):
        load_audio(tmp_path / "nope.wav")


def test_wav_with_zero_samples_raises_audio_error(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="silence.wav.*no audio samples"):
        load_audio(path)


def test_zero_byte_file_raises_audio_error(tmp_path):
    path = tmp_path / "blank.flac"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"blank.flac.*empty \(0 bytes\)"):
        load_audio(path)


def test_non_audio_file_raises_audio_error_with_the_reason(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are meeting notes, not audio\n" * 20)
    with pytest.raises(AudioError, match="notes.wav.*corrupt, truncated or not WAV audio.*Format not recognised"):
        load_audio(path)


def test_truncated_wav_is_refused_not_silently_shortened(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, _tone(16000), 16000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="cut.wav.*truncated.*declares 16000 bytes"):
        load_audio(path)


def test_truncated_flac_is_refused(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, np.random.default_rng(0).uniform(-0.5, 0.5, 32000).astype(np.float32), 16000, format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="cut.flac.*(truncated|corrupt)"):
        load_audio(path)


def test_unsupported_format_names_the_suffix_and_how_to_convert(tmp_path):
    path = tmp_path / "voice.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    with pytest.raises(AudioError, match=r"voice.m4a.*unsupported format '\.m4a'.*ffmpeg"):
        load_audio(path)


def test_directory_is_refused_as_audio(tmp_path):
    with pytest.raises(AudioError, match="is a directory"):
        load_audio(tmp_path)


def test_resample_refuses_bad_rates_and_multichannel_arrays():
    with pytest.raises(InputError, match="orig_rate"):
        resample(np.zeros(10, np.float32), 0, 16000)
    with pytest.raises(InputError, match="1-D"):
        resample(np.zeros((10, 2), np.float32), 8000, 16000)
