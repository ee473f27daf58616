"""Reading audio files as the mono float32 waveform a CTC acoustic model expects.

:func:`load_audio` decodes wav / flac / ogg / mp3 (anything libsndfile reads) with
``soundfile``, down-mixes to mono by averaging the channels, and resamples with a
polyphase filter (``scipy.signal.resample_poly`` at the exact rational ratio, e.g.
160/441 for 44.1 kHz -> 16 kHz). Integer PCM (16/24/32-bit) becomes floats in
[-1, 1); float PCM is kept as is. Every failure is an :class:`~ctcdecode_kit.errors.AudioError`
(or :class:`~ctcdecode_kit.errors.MissingFileError`) naming the file and the reason.

Example:
    >>> from ctcdecode_kit import load_audio
    >>> audio = load_audio("../shared/data/misc-audio/jfk.flac")   # doctest: +SKIP
    >>> audio.dtype, audio.ndim, round(len(audio) / 16000, 1)      # doctest: +SKIP
    (dtype('float32'), 1, 11.0)
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AudioError, InputError, MissingFileError

__all__ = ["AUDIO_SUFFIXES", "AudioInfo", "audio_info", "load_audio", "resample"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64", ".rf64")
"""File suffixes read as audio (libsndfile formats); dataset folders look for these."""

_BLOCK_FRAMES = 1 << 20  # read long files in ~1M-frame blocks so stereo is down-mixed on the fly


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What an audio file's header says: frames per channel, rate, channels, format."""

    path: Path
    frames: int
    sampling_rate: int
    channels: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        """Length in seconds (from the header; may be approximate for mp3)."""
        return self.frames / self.sampling_rate if self.sampling_rate else 0.0


def _check_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"audio file {str(path)!r} does not exist")
    if path.is_dir():
        raise AudioError(f"audio file {str(path)!r} is a directory; expected an audio file (wav, flac, ogg, mp3)")
    return path


def _decode_error(path: Path, exc: Exception) -> AudioError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if path.stat().st_size == 0:
        return AudioError(f"audio file {str(path)!r} is empty (0 bytes)")
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        return AudioError(
            f"audio file {str(path)!r} has an unsupported format {path.suffix or '(no suffix)'!r} that "
            f"libsndfile cannot decode ({reason}); supported: "
            f"{', '.join(s.lstrip('.') for s in AUDIO_SUFFIXES)}. Convert it first, e.g. "
            f"ffmpeg -i {path.name} -ac 1 -ar 16000 {path.stem}.wav"
        )
    return AudioError(
        f"cannot decode audio file {str(path)!r}: it is corrupt, truncated or not "
        f"{path.suffix.lstrip('.').upper()} audio ({reason})"
    )


def audio_info(path: str | Path) -> AudioInfo:
    """Read an audio file's header without decoding the samples.

    Example:
        >>> info = audio_info("../shared/data/misc-audio/jfk.flac")   # doctest: +SKIP
        >>> info.sampling_rate, info.channels, info.subtype            # doctest: +SKIP
        (44100, 2, 'PCM_24')
    """
    import soundfile as sf

    path = _check_path(path)
    try:
        info = sf.info(str(path))
    except (RuntimeError, TypeError, ValueError) as exc:
        raise _decode_error(path, exc) from exc
    return AudioInfo(path, int(info.frames), int(info.samplerate), int(info.channels), info.format, info.subtype)


def _wav_declared_bytes(path: Path) -> tuple[int, int] | None:
    """(declared size of the RIFF ``data`` chunk, bytes actually present), or None if unknown."""
    with path.open("rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        size = path.stat().st_size
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                if chunk_size in (0, 0xFFFFFFFF):  # streaming writers leave a placeholder
                    return None
                return chunk_size, size - pos - 8
            pos += 8 + chunk_size + (chunk_size & 1)
    return None


def _read_mono(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            rate, declared, fmt = int(f.samplerate), int(f.frames), f.format
            blocks = []
            while True:
                block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                blocks.append(block[:, 0].copy() if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32))
    except (RuntimeError, TypeError, ValueError) as exc:
        raise _decode_error(path, exc) from exc
    audio = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    read = audio.shape[0]
    if read == 0:
        raise AudioError(
            f"audio file {str(path)!r} holds no audio samples (0 frames decoded from "
            f"{path.stat().st_size} bytes); it is empty or truncated"
        )
    # libsndfile silently shortens truncated files: compare with what the header promised
    if read < declared * (0.9 if fmt == "MP3" else 1.0):  # mp3 headers only estimate the length
        raise AudioError(
            f"audio file {str(path)!r} is truncated or corrupt: its header declares {declared} frames "
            f"but only {read} could be decoded"
        )
    sizes = _wav_declared_bytes(path) if fmt == "WAV" else None
    if sizes is not None and sizes[1] < sizes[0]:
        raise AudioError(
            f"audio file {str(path)!r} is truncated: its header declares {sizes[0]} bytes of samples "
            f"but only {sizes[1]} are present"
        )
    if not np.isfinite(audio).all():
        raise AudioError(f"audio file {str(path)!r} contains NaN or infinite samples")
    return audio, rate


def resample(audio: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a 1-D waveform with a polyphase filter at the exact rational ratio.

    The ratio ``target_rate / orig_rate`` is reduced by their gcd (44100 -> 16000 is
    up 160, down 441), so no sample-rate rounding happens; the output has
    ``ceil(len(audio) * up / down)`` samples.

    Example:
        >>> import numpy as np
        >>> resample(np.ones(441, dtype=np.float32), 44100, 16000).shape
        (160,)
    """
    for name, rate in (("orig_rate", orig_rate), ("target_rate", target_rate)):
        if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate <= 0:
            raise InputError(f"{name} must be a positive integer number of samples per second, got {rate!r}")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise InputError(f"audio must be a 1-D mono waveform to resample, got shape {audio.shape}")
    if orig_rate == target_rate:
        return audio
    from scipy.signal import resample_poly

    g = math.gcd(int(orig_rate), int(target_rate))
    up, down = int(target_rate) // g, int(orig_rate) // g
    return resample_poly(audio, up, down).astype(np.float32, copy=False)


def load_audio(path: str | Path, target_rate: int | None = 16000) -> np.ndarray:
    """Decode an audio file into a mono float32 waveform at ``target_rate`` Hz.

    Args:
        path: a wav, flac, ogg/vorbis/opus, mp3 (or other libsndfile) file.
        target_rate: the sampling rate to return (the acoustic model's, 16000 for
            wav2vec2); None keeps the file's own rate.

    Raises:
        MissingFileError: the file does not exist.
        AudioError: the file is empty, holds 0 samples, is truncated, corrupt, not audio,
            or in a format libsndfile cannot read; the message names the file and why.

    Example:
        >>> audio = load_audio("../shared/data/librispeech-audio/1995-1837-0001.wav")  # doctest: +SKIP
        >>> audio.dtype, audio.shape                                                   # doctest: +SKIP
        (dtype('float32'), (139680,))
    """
    path = _check_path(path)
    audio, rate = _read_mono(path)
    if target_rate is None:
        return audio
    return resample(audio, rate, target_rate)
