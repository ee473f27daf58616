"""ONNX CTC acoustic models through onnxruntime (the optional ``[onnx]`` extra).

:func:`load_onnx_model` (reached as :meth:`AcousticModel.from_onnx
<ctcdecode_kit.AcousticModel.from_onnx>`) wraps an ONNX graph that maps a raw waveform
``[B, samples]`` (plus, optionally, its lengths ``[B]``) to CTC logits or log-probs
``[B, T, V]``. The result is an :class:`OnnxAcousticModel`, an
:class:`~ctcdecode_kit.AcousticModel`, so ``logits``/``iter_logits``, ``transcribe``,
``compare`` and ``tune`` use it as they use a transformers model and get the same
:class:`~ctcdecode_kit.Emissions`.

* Input: the waveform as given, floats in [-1, 1]; no normalisation unless
  ``normalize=True`` (zero mean, unit variance per utterance, as wav2vec2's feature
  extractor does). A second, integer input is taken as the lengths in samples.
* Frames: the frame rate comes from ``frame_rate=`` or from a probe (the model runs on
  4 s and 8 s of silence); how many frames ``n`` samples give is probed once too
  (``frames = (n + offset) // samples_per_frame``, checked on further lengths), and so is
  the shortest input the model accepts.
* Batching: ``max_batch_size`` (default 1) caps every forward pass whatever batch size
  the caller asks for. Zero padding changes what many models compute (hama's changed 6 %
  of the frame argmaxes), so with the default a batch size can never change the results.
* Device: onnxruntime's CPU provider; ``device="cuda"`` uses its CUDA provider when the
  installed onnxruntime has one (``onnxruntime-gpu``). Emissions are CPU tensors.

:func:`hama_model` loads the phoneme recogniser bundled in PyPI ``hama==1.3.13``
(``hama/assets/asr_waveform_fp16.onnx``): an English natural-speech phoneme CTC model,
raw 16 kHz waveform + length -> log-probs over 191 IPA tokens at 50 frames/s. Its
training data is undocumented, and its license metadata disagrees (PyPI says
Apache-2.0, its repository MIT): it is an optional extra, never a default.

Example:
    >>> from ctcdecode_kit import AcousticModel, Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_file("tokens.txt")                                  # doctest: +SKIP
    >>> am = AcousticModel.from_onnx("model.onnx", vocab)                           # doctest: +SKIP
    >>> em = am.logits(["speech.wav"])                                              # doctest: +SKIP
    >>> build_decoder("greedy", vocab).decode(em.logits, em.lengths)[0][0].text    # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .acoustic import AcousticModel
from .errors import InputError, MissingDependencyError, MissingFileError, VocabularyError
from .vocabulary import Vocabulary

__all__ = ["OnnxAcousticModel", "load_onnx_model", "hama_model", "hama_vocabulary", "HAMA_NOTE", "INSTALL"]

INSTALL = "pip install 'ctcdecode-kit[onnx]'"
"""The command that installs what this module needs (onnxruntime, and hama for :func:`hama_model`)."""

HAMA_NOTE = (
    "hama 1.3.13's phoneme ASR model: training data undocumented; license metadata disagrees "
    "(PyPI Apache-2.0, repository MIT)"
)
"""What must be said wherever hama's model is used."""

HAMA_VERSION = "1.3.13"
_PROBE_SECONDS = (4.0, 8.0)
_VOCAB_FILES = ("tokens.txt", "vocab.json")


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingDependencyError(
            f"ONNX acoustic models need onnxruntime, which is not installed; install it with: {INSTALL}"
        ) from exc
    return onnxruntime


def _ort_errors(ort: Any) -> tuple[type[BaseException], ...]:
    """The exception types onnxruntime raises for a graph that fails on an input."""
    state = ort.capi.onnxruntime_pybind11_state
    return tuple(
        getattr(state, name)
        for name in (
            "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException",
            "InvalidProtobuf", "NotImplemented", "InvalidGraph", "EPFail",
        )
        if hasattr(state, name)
    )


@dataclass(frozen=True, eq=False)
class OnnxAcousticModel(AcousticModel):
    """An :class:`~ctcdecode_kit.AcousticModel` whose network is an onnxruntime session.

    Build it with :meth:`AcousticModel.from_onnx` or :func:`load_onnx_model`. ``model`` is
    the ``onnxruntime.InferenceSession``; ``feature_extractor`` is None.

    Attributes (besides AcousticModel's):
        path: the ONNX file.
        max_batch_size: most utterances (or chunks) per forward pass; None = no cap.
        normalize: whether each utterance is normalised to zero mean, unit variance.
        waveform_input, lengths_input: the graph's input names (lengths_input None: none).
        output: the name of the logits output.
        frame_offset: ``frames = (samples + frame_offset) // samples_per_frame``.
        input_dtype: the waveform input's numpy dtype (float32 or float16).
        license_note: what is known and not known about the model, when it matters.
    """

    path: Path = Path()
    max_batch_size: int | None = 1
    normalize: bool = False
    waveform_input: str = ""
    lengths_input: str | None = None
    output: str = ""
    frame_offset: int = 0
    input_dtype: Any = np.float32
    license_note: str = ""

    def output_lengths(self, num_samples: Any) -> torch.Tensor:
        """Frames the model outputs for inputs of ``num_samples`` samples (the probed formula).

        Example:
            >>> am.output_lengths([16000]).tolist()   # doctest: +SKIP
            [51]
        """
        lengths = torch.as_tensor(num_samples, dtype=torch.int64)
        frames = torch.div(lengths + self.frame_offset, self.samples_per_frame, rounding_mode="floor")
        return torch.where(lengths >= self.min_samples, frames, torch.zeros_like(frames)).clamp_min(0)

    def iter_logits(self, audios: Any, sampling_rate: int = 16000, batch_size: int = 8, **kwargs: Any) -> Any:
        """As :meth:`AcousticModel.iter_logits`, with at most ``max_batch_size`` inputs per forward pass."""
        if self.max_batch_size is not None and isinstance(batch_size, int) and not isinstance(batch_size, bool):
            batch_size = max(1, min(batch_size, self.max_batch_size)) if batch_size > 0 else batch_size
        return super().iter_logits(audios, sampling_rate, batch_size, **kwargs)

    def _forward(self, waves: list[np.ndarray]) -> torch.Tensor:
        """One padded forward pass through the session; float32 ``[B, T, V]`` on the CPU."""
        if self.max_batch_size is not None and len(waves) > self.max_batch_size:  # pragma: no cover - iter_logits caps it
            raise InputError(f"{len(waves)} inputs in one pass, but max_batch_size is {self.max_batch_size}")
        longest = max(w.shape[0] for w in waves)
        batch = np.zeros((len(waves), longest), dtype=np.float32)
        for row, wave in enumerate(waves):
            if self.normalize:
                wave = (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)
            batch[row, : wave.shape[0]] = wave
        feeds: dict[str, np.ndarray] = {self.waveform_input: batch.astype(self.input_dtype, copy=False)}
        if self.lengths_input is not None:
            feeds[self.lengths_input] = np.array([w.shape[0] for w in waves], dtype=np.int64)
        logits = _run(self.model, self.output, feeds, str(self.path))
        return torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32))

    def __repr__(self) -> str:
        cap = "no cap" if self.max_batch_size is None else f"max_batch_size={self.max_batch_size}"
        return (
            f"OnnxAcousticModel({str(self.path)!r}, {len(self.vocabulary)} tokens, {self.frame_rate:g} frames/s, {cap})"
        )


def _run(session: Any, output: str, feeds: dict[str, np.ndarray], where: str) -> np.ndarray:
    ort = _onnxruntime()
    try:
        (logits,) = session.run([output], feeds)
    except _ort_errors(ort) as exc:
        shapes = {name: tuple(array.shape) for name, array in feeds.items()}
        raise InputError(
            f"ONNX model {where!r} failed on inputs {shapes}: {str(exc).strip().splitlines()[0][:300]}"
        ) from exc
    return np.asarray(logits)


def _read_vocabulary(vocabulary: Vocabulary | str | Path | None, path: Path) -> Vocabulary:
    if isinstance(vocabulary, Vocabulary):
        return vocabulary
    if vocabulary is None:
        for name in _VOCAB_FILES:
            if (path.parent / name).is_file():
                return Vocabulary.from_file(path.parent / name)
        raise VocabularyError(
            f"ONNX model {str(path)!r} needs a vocabulary: pass vocabulary= (a Vocabulary or a tokens.txt / "
            f"vocab.json path), or put tokens.txt or vocab.json beside the model"
        )
    if isinstance(vocabulary, (str, Path)):
        return Vocabulary.from_file(vocabulary)
    raise VocabularyError(
        f"vocabulary must be a Vocabulary or a tokens.txt / vocab.json path, got {type(vocabulary).__name__}"
    )


def _providers(ort: Any, device: str | torch.device | None) -> list[str]:
    kind = "cpu" if device is None else str(device).split(":")[0]
    if kind == "cpu":
        return ["CPUExecutionProvider"]
    if kind == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise InputError(
                f"device {str(device)!r} was requested, but this onnxruntime has no CUDA provider (available: "
                f"{', '.join(ort.get_available_providers())}); install onnxruntime-gpu or use device='cpu'"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    raise InputError(f"device must be 'cpu' or 'cuda' for an ONNX model, got {device!r}")


def _signature(session: Any, where: str) -> tuple[str, str | None, str, Any]:
    """(waveform input, lengths input or None, logits output, waveform numpy dtype)."""
    inputs = session.get_inputs()
    floats = [i for i in inputs if i.type in ("tensor(float)", "tensor(float16)")]
    ints = [i for i in inputs if i.type in ("tensor(int64)", "tensor(int32)")]
    described = ", ".join(f"{i.name} {i.type} {i.shape}" for i in inputs)
    if len(floats) != 1 or len(ints) > 1 or len(floats) + len(ints) != len(inputs):
        raise InputError(
            f"ONNX model {where!r} has inputs [{described}]; expected one float waveform input [batch, samples] "
            f"and optionally one integer lengths input [batch]"
        )
    wave = floats[0]
    if wave.shape is not None and len(wave.shape) != 2:
        raise InputError(
            f"ONNX model {where!r}: input {wave.name!r} has shape {wave.shape}; expected a raw waveform "
            f"[batch, samples] (feature-input models are not supported)"
        )
    outputs = session.get_outputs()
    candidates = [o for o in outputs if o.type in ("tensor(float)", "tensor(float16)")]
    if not candidates:
        raise InputError(f"ONNX model {where!r} has no float output; expected logits [batch, frames, vocabulary]")
    dtype = np.float16 if wave.type == "tensor(float16)" else np.float32
    return wave.name, (ints[0].name if ints else None), candidates[0].name, dtype


def load_onnx_model(
    path: str | Path,
    vocabulary: Vocabulary | str | Path | None,
    *,
    device: str | torch.device | None = None,
    frame_rate: float | None = None,
    sampling_rate: int = 16000,
    max_batch_size: int | None = 1,
    normalize: bool = False,
    name: str | None = None,
    license_note: str = "",
) -> OnnxAcousticModel:
    """Load a waveform-input ONNX CTC model (see the module docs for what is probed).

    Args:
        path: the ``.onnx`` file.
        vocabulary: a :class:`Vocabulary`, a tokens.txt / vocab.json path, or None to use the
            ``tokens.txt`` or ``vocab.json`` beside the model.
        device: ``"cpu"`` (default) or ``"cuda"`` (needs onnxruntime-gpu).
        frame_rate: frames per second; None probes it.
        sampling_rate: the rate the model expects (16000).
        max_batch_size: most utterances per forward pass (default 1: batching cannot change
            the logits); None for no cap.
        normalize: normalise each utterance to zero mean and unit variance first.
        name: the model's name in results (default: the path).
        license_note: what is known about the model's provenance, kept with it.

    Raises:
        MissingDependencyError: onnxruntime is not installed (says ``pip install 'ctcdecode-kit[onnx]'``).
        MissingFileError: no file at ``path``.
        InputError: not an ONNX model, not a waveform -> ``[B, T, V]`` graph, or bad arguments.
        VocabularyError: the output size differs from the vocabulary's.

    Example:
        >>> am = load_onnx_model("model.onnx", "tokens.txt")   # doctest: +SKIP
        >>> am.frame_rate, am.max_batch_size                  # doctest: +SKIP
        (50.0, 1)
    """
    ort = _onnxruntime()
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingFileError(f"ONNX model {str(path)!r} does not exist")
    if max_batch_size is not None and (
        isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 1
    ):
        raise InputError(f"max_batch_size must be a positive integer or None, got {max_batch_size!r}")
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, int) or sampling_rate <= 0:
        raise InputError(f"sampling_rate must be a positive integer (Hz), got {sampling_rate!r}")
    if frame_rate is not None and (not isinstance(frame_rate, (int, float)) or not 0 < frame_rate < sampling_rate):
        raise InputError(f"frame_rate must be frames per second between 0 and sampling_rate, got {frame_rate!r}")
    vocab = _read_vocabulary(vocabulary, path)
    options = ort.SessionOptions()
    options.log_severity_level = 4  # probes fail on purpose; failures still raise
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=_providers(ort, device))
    except _ort_errors(ort) as exc:
        raise InputError(
            f"{str(path)!r} is not a loadable ONNX model: {str(exc).strip().splitlines()[0][:300]}"
        ) from exc
    wave_in, lengths_in, output, dtype = _signature(session, str(path))
    where = str(path)

    def frames(n: int) -> int | None:
        """Frames for n samples of silence, None when the model refuses so short an input."""
        feeds = {wave_in: np.zeros((1, n), dtype=dtype)}
        if lengths_in is not None:
            feeds[lengths_in] = np.array([n], dtype=np.int64)
        try:
            (out,) = session.run([output], feeds)
        except _ort_errors(ort):
            return None
        out = np.asarray(out)
        if out.ndim != 3 or out.shape[0] != 1:
            raise InputError(
                f"ONNX model {where!r} output {output!r} has shape {out.shape} for one input; expected "
                f"[batch, frames, vocabulary]"
            )
        if out.shape[2] != len(vocab):
            raise VocabularyError(
                f"ONNX model {where!r} outputs {out.shape[2]} classes but the vocabulary has {len(vocab)} tokens"
            )
        return int(out.shape[1])

    short, long = (int(s * sampling_rate) for s in _PROBE_SECONDS)
    t_short, t_long = frames(short), frames(long)
    if t_short is None or t_long is None or t_long <= t_short:
        raise InputError(
            f"ONNX model {where!r} did not give more frames for {long} samples than for {short} "
            f"({t_short} vs {t_long}); expected a waveform CTC model"
        )
    if frame_rate is None:
        measured = (t_long - t_short) * sampling_rate / (long - short)
        step = int(round(sampling_rate / measured))
        frame_rate = sampling_rate / step
    step = int(round(sampling_rate / frame_rate))
    if abs(sampling_rate / step - frame_rate) > 1e-6 * frame_rate:
        raise InputError(
            f"frame_rate={frame_rate} does not divide sampling_rate={sampling_rate} into whole samples per frame"
        )
    # the first length past `short` that adds a frame fixes the offset of frames = (n + offset) // step
    lo, hi = short, short + step
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if (frames(mid) or 0) > t_short:
            hi = mid
        else:
            lo = mid
    offset = (t_short + 1) * step - hi
    for n in (short + step // 3, 3 * sampling_rate + 7, long + 2 * step - 1):
        got = frames(n)
        if got != (n + offset) // step:
            raise InputError(
                f"ONNX model {where!r}: could not find its frame count as a function of the input length "
                f"({n} samples gave {got} frames, expected {(n + offset) // step} at {frame_rate:g} frames/s); "
                f"pass frame_rate= if the probed {frame_rate:g} is wrong"
            )
    # shortest input that the model accepts and that gives a frame
    lo, hi = 1, short
    while lo < hi:
        mid = (lo + hi) // 2
        if (frames(mid) or 0) >= 1:
            hi = mid
        else:
            lo = mid + 1
    return OnnxAcousticModel(
        model=session,
        feature_extractor=None,
        vocabulary=vocab,
        device=torch.device("cpu"),
        dtype=torch.float32,
        sampling_rate=sampling_rate,
        frame_rate=float(frame_rate),
        use_attention_mask=False,
        min_samples=lo,
        name=name or str(path),
        path=path,
        max_batch_size=max_batch_size,
        normalize=bool(normalize),
        waveform_input=wave_in,
        lengths_input=lengths_in,
        output=output,
        frame_offset=offset,
        input_dtype=dtype,
        license_note=license_note,
    )


def _hama_assets() -> Path:
    try:
        import hama
    except ImportError as exc:
        raise MissingDependencyError(
            f"hama's phoneme model needs the hama package ({HAMA_VERSION}) and onnxruntime; install them with: "
            f"{INSTALL}"
        ) from exc
    assets = Path(hama.__file__).parent / "assets"
    if not (assets / "asr_waveform_fp16.onnx").is_file():
        from importlib.metadata import version

        raise MissingDependencyError(
            f"hama {version('hama')} has no assets/asr_waveform_fp16.onnx (hama 1.4.0 and later ship no ONNX "
            f"files); "
            f"install the pinned version with: {INSTALL}"
        )
    return assets


def hama_vocabulary() -> Vocabulary:
    """hama's 191 phoneme-ASR tokens: ``g2p_vocab.json["decoder"]``, then ``<wb>``, then ``<blank>``.

    The blank is ``<blank>`` (190, last) and the word delimiter ``<wb>`` (189); ``<pad>``
    (0) and ``' '`` (4), which auto-detection would take as blank and delimiter, are
    special tokens like ``<sos>``, ``<eos>`` and ``<unk>``.

    Example:
        >>> v = hama_vocabulary()                                             # doctest: +SKIP
        >>> len(v), v.tokens[v.blank], v.tokens[v.word_delimiter], v.tokens[13]  # doctest: +SKIP
        (191, '<blank>', '<wb>', 'd͡ʒ')
    """
    assets = _hama_assets()
    decoder = json.loads((assets / "g2p_vocab.json").read_text(encoding="utf-8"))["decoder"]
    labels = [*decoder, "<wb>", "<blank>"]
    special = [t for t in ("<pad>", "<sos>", "<eos>", "<unk>", " ") if t in labels]
    return Vocabulary.from_labels(labels, blank="<blank>", word_delimiter="<wb>", special=special)


def hama_model(*, device: str | torch.device | None = None) -> OnnxAcousticModel:
    """hama 1.3.13's English phoneme recogniser (``hama/assets/asr_waveform_fp16.onnx``), one utterance per pass.

    Raw 16 kHz waveform + length -> log-probs ``[B, T, 191]`` at 50 frames/s over
    :func:`hama_vocabulary`. Its training data is undocumented and its license metadata
    disagrees (PyPI Apache-2.0, repository MIT); ``license_note`` says so. Needs the
    ``[onnx]`` extra: ``pip install 'ctcdecode-kit[onnx]'``.

    Example:
        >>> am = hama_model()                                                   # doctest: +SKIP
        >>> em = am.logits(["../shared/data/librispeech-audio/1089-134686-0001.wav"])  # doctest: +SKIP
        >>> tuple(em.logits.shape), am.frame_rate                              # doctest: +SKIP
        ((1, 332, 191), 50.0)
    """
    _onnxruntime()
    assets = _hama_assets()
    return load_onnx_model(
        assets / "asr_waveform_fp16.onnx",
        hama_vocabulary(),
        device=device,
        max_batch_size=1,
        name=f"hama=={HAMA_VERSION}:asr_waveform_fp16.onnx",
        license_note=HAMA_NOTE,
    )
