"""Audio -> batched CTC logits with a Hugging Face acoustic model.

:class:`AcousticModel` wraps any raw-waveform ``AutoModelForCTC`` (wav2vec2, HuBERT,
WavLM, data2vec-audio, SEW, UniSpeech, ...) with its feature extractor and tokenizer,
exactly as the ``facebook/wav2vec2-base-960h`` model card uses them: 16 kHz float
audio -> feature extractor -> model -> logits ``[B, T, V]``.

* Device and dtype: ``cuda`` when available unless told otherwise; ``float16`` /
  ``bfloat16`` on GPU (``float16`` is refused on CPU, ``bfloat16`` works there);
  eval mode, ``torch.inference_mode``.
* Batching: utterances are sorted by length and batched with their neighbours so
  padding is minimal. Each utterance is normalised over its own samples. The
  attention mask is passed only when the feature extractor says the model was
  trained with one (``return_attention_mask=True``, the ``feat_extract_norm="layer"``
  models); otherwise batches are zero-padded without a mask, as the model cards do.
* Lengths: valid frames per utterance come from the model's own
  ``_get_feat_extract_output_lengths``; frames past an utterance's length are 0.
* Long recordings are cut into overlapping chunks (``chunk_length_s``, default 30 s,
  with ``stride_length_s`` of context on each side, default chunk/6 = 5 s), as the
  transformers ASR pipeline does, and stitched by dropping the stride frames. Chunk
  boundaries fall on frame boundaries, so the stitched logits have exactly the
  length of an unchunked run.

Example:
    >>> from ctcdecode_kit import AcousticModel, build_decoder, load_audio
    >>> am = AcousticModel.from_pretrained("facebook/wav2vec2-base-960h")        # doctest: +SKIP
    >>> em = am.logits([load_audio("../shared/data/misc-audio/jfk.flac")])      # doctest: +SKIP
    >>> greedy = build_decoder("greedy", am.vocabulary, frame_rate=am.frame_rate)  # doctest: +SKIP
    >>> greedy.decode(em.logits, em.lengths)[0][0].text                         # doctest: +SKIP
    'AND SO MY FELLOW AMERICANS ASK NOT WHAT YOUR COUNTRY CAN DO FOR YOU ...'
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .audio import audio_info, load_audio, resample
from .errors import AudioError, InputError, MissingFileError, VocabularyError
from .inputs import check_positive_int
from .vocabulary import Vocabulary

__all__ = ["AcousticModel", "Emissions", "resolve_device", "resolve_dtype"]

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True, eq=False)
class Emissions:
    """Logits of a batch of utterances.

    Attributes:
        logits: float32 ``[B, T, V]`` raw logits on the model's device, padded to the
            longest utterance; frames at or after ``lengths[b]`` are 0.
        lengths: int64 CPU tensor ``[B]``, valid frames per utterance.
        indices: for each row, the position of the utterance in the caller's input.
        frame_rate: frames per second (50.0 for wav2vec2), for timestamps in seconds.
    """

    logits: torch.Tensor
    lengths: torch.Tensor
    indices: tuple[int, ...]
    frame_rate: float

    def __post_init__(self) -> None:
        if self.logits.dim() != 3:
            raise InputError(f"Emissions.logits must be [B, T, V], got shape {tuple(self.logits.shape)}")
        batch = self.logits.shape[0]
        if tuple(self.lengths.shape) != (batch,) or len(self.indices) != batch:
            raise InputError(
                f"Emissions needs one length and one index per row: logits {tuple(self.logits.shape)}, "
                f"lengths {tuple(self.lengths.shape)}, {len(self.indices)} indices"
            )

    def __len__(self) -> int:
        return int(self.logits.shape[0])

    def utterance(self, row: int) -> torch.Tensor:
        """Logits ``[T_row, V]`` of one row without its padding."""
        return self.logits[row, : int(self.lengths[row])]

    def numpy(self) -> list[np.ndarray]:
        """Each row's unpadded logits as a float32 numpy array ``[T_b, V]`` (on the CPU)."""
        return [self.utterance(b).detach().to("cpu").numpy() for b in range(len(self))]


# ---------------------------------------------------------------------------- helpers
def resolve_device(device: str | torch.device | None) -> torch.device:
    """``cuda`` when available (else ``cpu``) for None; otherwise check the request.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"device must be 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {str(device)!r} was requested but CUDA is not available; use device='cpu'")
    return resolved


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """float32 for None; float16/bfloat16 by name or dtype. float16 is refused on CPU.

    Example:
        >>> resolve_dtype("bf16", torch.device("cpu"))
        torch.bfloat16
    """
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        if dtype.lower() not in _DTYPES:
            raise InputError(f"dtype must be one of {', '.join(sorted(_DTYPES))}, got {dtype!r}")
        dtype = _DTYPES[dtype.lower()]
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise InputError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
    if dtype == torch.float16 and device.type == "cpu":
        raise InputError(
            "dtype float16 needs a GPU: many CPU kernels lack half precision; on CPU use float32 (the "
            "default) or bfloat16"
        )
    return dtype


def _looks_local(name: str) -> bool:
    path = Path(name).expanduser()
    return path.exists() or path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1 or "\\" in name


def _is_onnx_name(name: str) -> bool:
    """An ``.onnx`` file, or ``hama`` (hama's bundled phoneme model) unless a folder of that name exists."""
    return name.lower().endswith(".onnx") or (name == "hama" and not Path(name).exists())


def _repo_decoder_config(source: str) -> Any:
    """The "-with-lm" decoder a local folder or Hub repo ships beside the model, else None."""
    from .pretrained import ALPHABET_FILE, LM_DIR, load_decoder_config

    folder = Path(source)
    if folder.is_dir():
        if not (folder / LM_DIR).exists() and not (folder / ALPHABET_FILE).is_file():
            return None
        return load_decoder_config(folder)
    try:
        from huggingface_hub import list_repo_files

        files = set(list_repo_files(source))
    except (OSError, ValueError):  # offline, or not a Hub repo: no decoder beyond the model's own
        return None
    if ALPHABET_FILE not in files and not any(f.startswith(LM_DIR + "/") for f in files):
        return None
    return load_decoder_config(source)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


@dataclass(frozen=True, slots=True)
class _Segment:
    """One forward-pass input: samples ``audio`` of utterance ``utt`` (chunk ``part`` of ``parts``)."""

    utt: int
    part: int
    parts: int
    audio: np.ndarray
    keep_from: int  # first local frame kept
    keep_to: int  # one past the last local frame kept


@dataclass(slots=True)
class _Pending:
    """Chunk logits of one utterance collected until all of its chunks are done."""

    parts: int
    frames: int
    pieces: dict[int, torch.Tensor] = field(default_factory=dict)

    def stitch(self) -> torch.Tensor:
        out = torch.cat([self.pieces[i] for i in range(self.parts)], dim=0)
        if out.shape[0] != self.frames:  # pragma: no cover - guarded by the chunk plan checks
            raise RuntimeError(f"stitched {out.shape[0]} frames, expected {self.frames}")
        return out


# ---------------------------------------------------------------------------- model
@dataclass(frozen=True, eq=False)
class AcousticModel:
    """A CTC acoustic model with its feature extractor and vocabulary.

    Build it with :meth:`from_pretrained`; ``__init__`` only stores.

    Attributes:
        model: the ``*ForCTC`` torch module, in eval mode on ``device`` in ``dtype``.
        feature_extractor: the model's feature extractor (normalisation, padding).
        vocabulary: the CTC output vocabulary (from the tokenizer).
        device: where the model and the returned logits live.
        dtype: the model's parameter dtype.
        sampling_rate: the audio rate the model expects (16000 for wav2vec2).
        frame_rate: logit frames per second (sampling rate / total conv stride; 50.0).
        use_attention_mask: whether batches are passed with an attention mask.
        min_samples: the shortest input that yields one frame (the conv receptive field).
        name: what it was loaded from.
        decoder_config: the decoder a Hugging Face "-with-lm" repo ships (``alphabet.json`` +
            ``language_model/``) as a :class:`ctcdecode_kit.pretrained.DecoderConfig`, or None;
            :meth:`build_decoder` builds it, and ``transcribe``/``compare``/``tune`` use its LM
            and weights unless told otherwise.
    """

    model: Any
    feature_extractor: Any
    vocabulary: Vocabulary
    device: torch.device
    dtype: torch.dtype
    sampling_rate: int
    frame_rate: float
    use_attention_mask: bool
    min_samples: int
    name: str = ""
    decoder_config: Any = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(
        cls,
        name_or_dir: str | Path,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        *,
        vocabulary: Vocabulary | None = None,
    ) -> AcousticModel:
        """Load a CTC model, its feature extractor and tokenizer from the hub or a folder.

        Args:
            name_or_dir: a hub id (``facebook/wav2vec2-base-960h``; needs the network the
                first time) or a folder written by ``save_pretrained`` (model + processor).
                A ``*.onnx`` file, or ``"hama"`` (hama's phoneme model), goes to
                :meth:`from_onnx` (vocabulary: given, or tokens.txt / vocab.json beside it).
            device: ``"cuda"``, ``"cuda:1"``, ``"cpu"``...; None picks ``cuda`` when available.
            dtype: ``float32`` (default), ``float16`` (GPU only) or ``bfloat16``.
            vocabulary: overrides the tokenizer's vocabulary (then no tokenizer is needed).

        Raises:
            MissingFileError: the folder does not exist or has no ``config.json``.
            InputError: the model has no CTC head, takes no raw waveform, or a bad device/dtype.
            VocabularyError: there is no tokenizer, or its size differs from the CTC head's.

        Example:
            >>> am = AcousticModel.from_pretrained("facebook/wav2vec2-base-960h")  # doctest: +SKIP
            >>> am.frame_rate, am.sampling_rate, len(am.vocabulary)               # doctest: +SKIP
            (50.0, 16000, 32)
        """
        if _is_onnx_name(str(name_or_dir)):
            if dtype is not None and resolve_dtype(dtype, torch.device("cpu")) != torch.float32:
                raise InputError(f"dtype {dtype!r} does not apply to an ONNX model (its graph fixes its dtypes)")
            from .onnx_model import hama_model, load_onnx_model

            if str(name_or_dir) == "hama" and vocabulary is None:
                return hama_model(device=device)
            return load_onnx_model(name_or_dir, vocabulary, device=device)
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForCTC, AutoTokenizer

        source = str(name_or_dir)
        if _looks_local(source):
            folder = Path(source).expanduser()
            if not folder.is_dir():
                raise MissingFileError(f"model folder {source!r} does not exist")
            if not (folder / "config.json").is_file():
                raise MissingFileError(
                    f"model folder {source!r} has no config.json; expected a folder written by "
                    f"model.save_pretrained() and processor.save_pretrained()"
                )
            source = str(folder)
        torch_device = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, torch_device)
        try:
            config = AutoConfig.from_pretrained(source)
        except (OSError, ValueError, KeyError) as exc:
            raise MissingFileError(
                f"could not load a model config from {source!r}: it must be a hub model id or a folder "
                f"saved with save_pretrained ({_first_line(exc)})"
            ) from exc
        architectures = list(getattr(config, "architectures", None) or [])
        if architectures and not any(a.endswith("ForCTC") for a in architectures):
            raise InputError(
                f"model {source!r} is a {', '.join(architectures)} without a CTC head; expected a *ForCTC "
                f"model (e.g. Wav2Vec2ForCTC) fine-tuned for speech recognition"
            )
        try:
            model, info = AutoModelForCTC.from_pretrained(source, output_loading_info=True)
        except ValueError as exc:
            raise InputError(
                f"model {source!r} (model_type {getattr(config, 'model_type', '?')!r}) has no CTC variant "
                f"in transformers ({_first_line(exc)})"
            ) from exc
        except OSError as exc:
            raise MissingFileError(f"could not load the model weights of {source!r} ({_first_line(exc)})") from exc
        missing = sorted(k for k in info.get("missing_keys", ()) if k.startswith(("lm_head.", "classifier.")))
        if missing:
            raise InputError(
                f"model {source!r} has no trained CTC head (missing {', '.join(missing)}); it is a pretrained "
                f"encoder, not a *ForCTC model fine-tuned for speech recognition"
            )
        if getattr(model, "main_input_name", "input_values") != "input_values" or not hasattr(
            model, "_get_feat_extract_output_lengths"
        ):
            raise InputError(
                f"model {source!r} ({type(model).__name__}) takes {model.main_input_name!r}, not a raw waveform; "
                f"AcousticModel supports waveform CTC models (wav2vec2, HuBERT, WavLM, data2vec-audio, SEW, "
                f"UniSpeech)"
            )
        try:
            feature_extractor = AutoFeatureExtractor.from_pretrained(source)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise MissingFileError(
                f"model {source!r} has no feature extractor (preprocessor_config.json or processor_config.json); "
                f"save it with processor.save_pretrained() ({_first_line(exc)})"
            ) from exc
        if vocabulary is None:
            try:
                tokenizer = AutoTokenizer.from_pretrained(source)
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                raise VocabularyError(
                    f"model {source!r} has no tokenizer (vocab.json + tokenizer_config.json), so its CTC outputs "
                    f"cannot be mapped to text; save it with processor.save_pretrained() or pass vocabulary= "
                    f"({_first_line(exc)})"
                ) from exc
            vocabulary = Vocabulary.from_tokenizer(tokenizer)
        head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
        classes = int(getattr(head, "out_features", None) or config.vocab_size)
        if len(vocabulary) != classes:
            raise VocabularyError(
                f"model {source!r}: the tokenizer has {len(vocabulary)} tokens but the CTC head outputs {classes} "
                f"classes; pass vocabulary= with {classes} tokens"
            )
        model = model.to(device=torch_device, dtype=torch_dtype).eval()
        rate = int(getattr(feature_extractor, "sampling_rate", 16000))
        ratio = math.prod(getattr(config, "conv_stride", (1,)))
        if getattr(config, "add_adapter", False):
            ratio *= getattr(config, "adapter_stride", 1) ** getattr(config, "num_adapter_layers", 0)
        return cls(
            model=model,
            feature_extractor=feature_extractor,
            vocabulary=vocabulary,
            device=torch_device,
            dtype=torch_dtype,
            sampling_rate=rate,
            frame_rate=rate / ratio,
            use_attention_mask=bool(getattr(feature_extractor, "return_attention_mask", False)),
            min_samples=_min_samples(model),
            name=str(name_or_dir),
            decoder_config=_repo_decoder_config(source),
        )

    @classmethod
    def from_onnx(
        cls,
        path: str | Path,
        vocabulary: Vocabulary | str | Path | None,
        *,
        device: str | torch.device | None = None,
        frame_rate: float | None = None,
        sampling_rate: int = 16000,
        max_batch_size: int | None = 1,
        normalize: bool = False,
    ) -> AcousticModel:
        """Load a waveform-input ONNX CTC model through onnxruntime (the ``[onnx]`` extra).

        The waveform goes in as given (no normalisation unless ``normalize=True``), with its
        length when the graph has a lengths input; the frame rate is probed unless given;
        at most ``max_batch_size`` utterances share a forward pass (default 1, so batching
        cannot change the logits). See :mod:`ctcdecode_kit.onnx_model`, and
        :func:`ctcdecode_kit.onnx_model.hama_model` for hama's phoneme model.

        Example:
            >>> am = AcousticModel.from_onnx("model.onnx", "tokens.txt")  # doctest: +SKIP
            >>> em = am.logits(["speech.wav"])                             # doctest: +SKIP
        """
        from .onnx_model import load_onnx_model

        return load_onnx_model(
            path, vocabulary, device=device, frame_rate=frame_rate, sampling_rate=sampling_rate,
            max_batch_size=max_batch_size, normalize=normalize,
        )

    def build_decoder(self, decoder: str = "native", **overrides: Any) -> Any:
        """A decoder for this model's logits: the repo's own decoder settings when it ships one.

        With a "-with-lm" repo (``decoder_config`` set) the repo's LM, ``attrs.json`` weights
        and unigrams apply, with ``lm_rules="pyctcdecode"`` (see
        :func:`ctcdecode_kit.from_pretrained`); ``overrides`` win. Otherwise a plain decoder.
        Word timestamps are in seconds (the model's frame rate).

        Example:
            >>> am = AcousticModel.from_pretrained("patrickvonplaten/wav2vec2-base-100h-with-lm")  # doctest: +SKIP
            >>> am.build_decoder(beam_width=50).alpha                                              # doctest: +SKIP
            0.5
        """
        from .decoder import build_decoder

        options = {"frame_rate": self.frame_rate, **overrides}
        if self.decoder_config is not None:
            return self.decoder_config.build_decoder(decoder, vocabulary=self.vocabulary, **options)
        return build_decoder(decoder, self.vocabulary, **options)

    # ------------------------------------------------------------------ lengths
    @property
    def samples_per_frame(self) -> int:
        """Input samples per output frame (the total conv stride; 320 for wav2vec2)."""
        return int(round(self.sampling_rate / self.frame_rate))

    def output_lengths(self, num_samples: Sequence[int] | torch.Tensor) -> torch.Tensor:
        """Frames the model outputs for inputs of ``num_samples`` samples (its own formula).

        Example:
            >>> am.output_lengths([16000]).tolist()   # doctest: +SKIP
            [49]
        """
        lengths = torch.as_tensor(num_samples, dtype=torch.int64)
        return self.model._get_feat_extract_output_lengths(lengths).to(torch.int64).clamp_min(0)

    # ------------------------------------------------------------------ inference
    def logits(
        self,
        audios: Any,
        sampling_rate: int = 16000,
        batch_size: int = 8,
        *,
        chunk_length_s: float | None = 30.0,
        stride_length_s: float | tuple[float, float] | None = None,
        resample: bool = False,
    ) -> Emissions:
        """Logits of every utterance, in the order given, padded into one ``[N, T, V]`` batch.

        ``audios`` is a 1-D float waveform or a list of them (numpy or torch), or audio
        file paths (decoded with :func:`~ctcdecode_kit.load_audio` at the model's rate).
        See :meth:`iter_logits` for the other arguments.

        Example:
            >>> em = am.logits([np.zeros(16000, np.float32), np.zeros(8000, np.float32)])  # doctest: +SKIP
            >>> tuple(em.logits.shape), em.lengths.tolist()                               # doctest: +SKIP
            ((2, 49, 32), [49, 24])
        """
        rows: dict[int, torch.Tensor] = {}
        for batch in self.iter_logits(
            audios,
            sampling_rate,
            batch_size,
            chunk_length_s=chunk_length_s,
            stride_length_s=stride_length_s,
            resample=resample,
        ):
            for row, index in enumerate(batch.indices):
                rows[index] = batch.utterance(row)
        ordered = [rows[i] for i in range(len(rows))]
        return _pad(ordered, tuple(range(len(ordered))), self.frame_rate, len(self.vocabulary), self.device)

    def iter_logits(
        self,
        audios: Any,
        sampling_rate: int = 16000,
        batch_size: int = 8,
        *,
        chunk_length_s: float | None = 30.0,
        stride_length_s: float | tuple[float, float] | None = None,
        resample: bool = False,
    ) -> Iterator[Emissions]:
        """Yield :class:`Emissions` batch by batch, longest utterances first.

        Each yielded batch holds the utterances finished by one forward pass;
        ``Emissions.indices`` says which inputs they are. Decode a batch while the next
        one is computed, or drive a progress bar with ``len(batch)``.

        Args:
            audios: a 1-D float waveform, a list of them, or audio file paths.
            sampling_rate: the rate of waveforms passed as arrays; it must be the model's
                unless ``resample=True``. Files are always decoded at the model's rate.
            batch_size: utterances (or chunks) per forward pass.
            chunk_length_s: cut recordings longer than this into chunks of this length
                (None or 0: never chunk).
            stride_length_s: seconds of context on each side of a chunk that are computed
                but dropped when stitching (one number, or (left, right)); default
                ``chunk_length_s / 6``. Must cover the model's receptive field.
            resample: resample arrays given at another ``sampling_rate`` (polyphase).

        Raises:
            InputError: bad waveform (not 1-D, not float, NaN, too short), wrong sampling
                rate, or inconsistent chunk/stride lengths.
            AudioError, MissingFileError: an audio path cannot be read.
        """
        size = check_positive_int("batch_size", batch_size)
        sources = self._sources(audios, sampling_rate, resample)
        chunk, left, right = self._chunk_plan(chunk_length_s, stride_length_s)
        order = sorted(range(len(sources)), key=lambda i: -sources[i][1])
        queue: deque[_Segment] = deque()
        pending: dict[int, _Pending] = {}
        upcoming = iter(order)
        exhausted = False
        while True:
            while not exhausted and len(queue) < size:
                index = next(upcoming, None)
                if index is None:
                    exhausted = True
                    break
                audio = self._load(sources[index][0], index)
                segments = self._segments(index, audio, chunk, left, right)
                pending[index] = _Pending(len(segments), int(self.output_lengths([audio.shape[0]])[0]))
                queue.extend(segments)
            if not queue:
                return
            batch = [queue.popleft() for _ in range(min(size, len(queue)))]
            logits = self._forward([segment.audio for segment in batch])
            finished = []
            for row, segment in enumerate(batch):
                state = pending[segment.utt]
                state.pieces[segment.part] = logits[row, segment.keep_from : segment.keep_to]
                if len(state.pieces) == state.parts:
                    finished.append(segment.utt)
            if finished:
                rows = [pending.pop(i).stitch() for i in finished]
                yield _pad(rows, tuple(finished), self.frame_rate, len(self.vocabulary), self.device)

    # ------------------------------------------------------------------ internals
    def _sources(self, audios: Any, sampling_rate: int, resample_: bool) -> list[tuple[Any, float]]:
        """Validate inputs; return (waveform or path, length in model samples) per utterance."""
        if isinstance(audios, (np.ndarray, torch.Tensor, str, Path)):
            audios = [audios]
        try:
            items = list(audios)
        except TypeError:
            raise InputError(
                f"audios must be a 1-D waveform, a list of waveforms or audio file paths, got {type(audios).__name__}"
            ) from None
        if not items:
            raise InputError("audios is empty; expected at least one waveform or audio file")
        if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, np.integer)) or sampling_rate <= 0:
            raise InputError(f"sampling_rate must be a positive integer (Hz), got {sampling_rate!r}")
        needs_rate = any(not isinstance(item, (str, Path)) for item in items)
        if needs_rate and sampling_rate != self.sampling_rate and not resample_:
            raise InputError(
                f"audio sampled at {sampling_rate} Hz, but model {self.name!r} expects {self.sampling_rate} Hz; "
                f"load files with load_audio(path, target_rate={self.sampling_rate}) or pass resample=True"
            )
        sources: list[tuple[Any, float]] = []
        for i, item in enumerate(items):
            if isinstance(item, (str, Path)):
                info = audio_info(item)  # fails fast on missing / unreadable files
                sources.append((Path(item), info.duration * self.sampling_rate))
                continue
            wave = _check_waveform(item, i)
            if sampling_rate != self.sampling_rate:
                wave = resample(wave, int(sampling_rate), self.sampling_rate)
            sources.append((wave, float(wave.shape[0])))
        return sources

    def _load(self, source: Any, index: int) -> np.ndarray:
        audio = load_audio(source, target_rate=self.sampling_rate) if isinstance(source, Path) else source
        if audio.shape[0] < self.min_samples:
            where = f"file {str(source)!r}" if isinstance(source, Path) else f"audio {index}"
            raise (AudioError if isinstance(source, Path) else InputError)(
                f"{where} has {audio.shape[0]} samples ({audio.shape[0] / self.sampling_rate:.4f} s); model "
                f"{self.name!r} needs at least {self.min_samples} samples to produce one frame"
            )
        return audio

    def _chunk_plan(
        self, chunk_length_s: float | None, stride_length_s: float | tuple[float, float] | None
    ) -> tuple[int, int, int]:
        """(chunk, left stride, right stride) in samples, multiples of the frame stride; chunk 0 = off."""
        if chunk_length_s is None or chunk_length_s == 0:
            return 0, 0, 0
        if not isinstance(chunk_length_s, (int, float)) or chunk_length_s < 0:
            raise InputError(f"chunk_length_s must be a positive number of seconds or None, got {chunk_length_s!r}")
        if stride_length_s is None:
            stride_length_s = chunk_length_s / 6
        strides = stride_length_s if isinstance(stride_length_s, (tuple, list)) else (stride_length_s,) * 2
        if len(strides) != 2 or any(not isinstance(s, (int, float)) or s < 0 for s in strides):
            raise InputError(f"stride_length_s must be seconds >= 0 or a (left, right) pair, got {stride_length_s!r}")
        step = self.samples_per_frame
        chunk, left, right = (int(round(s * self.sampling_rate / step)) * step for s in (chunk_length_s, *strides))
        if chunk <= left + right:
            raise InputError(
                f"chunk_length_s={chunk_length_s} must be longer than the two strides {tuple(strides)} together"
            )
        if left + right < self.min_samples:
            raise InputError(
                f"stride_length_s={stride_length_s!r} is too short: the two strides together must hold at least "
                f"{self.min_samples} samples ({self.min_samples / self.sampling_rate:.4f} s), the model's receptive field"
            )
        # the frames kept from a full chunk must all exist: the right stride covers the receptive field
        available = int(self.output_lengths([chunk])[0])
        if (chunk - right) // step > available:
            need = (chunk // step - available) * step / self.sampling_rate
            raise InputError(
                f"stride_length_s={stride_length_s!r} is shorter than model {self.name!r}'s receptive field; each "
                f"stride needs at least {need:.4f} s"
            )
        return chunk, left, right

    def _segments(self, utt: int, audio: np.ndarray, chunk: int, left: int, right: int) -> list[_Segment]:
        """Cut one utterance into forward-pass segments with the frames each contributes.

        Chunks start every ``chunk - left - right`` samples, so the frames kept from
        consecutive chunks tile the utterance. The last chunk is moved back to end at
        the utterance's end (its start rounded up to a frame boundary): every chunk then
        has ``chunk`` samples (the last one less than a frame fewer), so chunks are
        hardly zero-padded in a batch, and the last one keeps only the frames the
        previous chunks did not cover (still with at least ``left`` samples of context).
        """
        n = audio.shape[0]
        total = int(self.output_lengths([n])[0])
        if chunk == 0 or n <= chunk:
            return [_Segment(utt, 0, 1, audio, 0, total)]
        step = self.samples_per_frame
        starts = [0]
        while starts[-1] + chunk < n:
            starts.append(starts[-1] + chunk - left - right)
        starts[-1] = min(starts[-1], -(-(n - chunk) // step) * step)
        segments = []
        covered = 0  # global frames already kept
        for part, start in enumerate(starts):
            last = part == len(starts) - 1
            keep_from = covered - start // step
            keep_to = total - start // step if last else (chunk - right) // step
            segments.append(_Segment(utt, part, len(starts), audio[start : start + chunk], keep_from, keep_to))
            covered = start // step + keep_to
        return segments

    def _forward(self, waves: list[np.ndarray]) -> torch.Tensor:
        """One padded forward pass; float32 logits on the model's device."""
        features = self.feature_extractor(
            waves,
            sampling_rate=self.sampling_rate,
            padding="longest",
            return_attention_mask=True,  # normalise each utterance over its own samples
            return_tensors="pt",
        )
        inputs = {"input_values": features["input_values"].to(self.device, self.dtype)}
        if self.use_attention_mask:
            inputs["attention_mask"] = features["attention_mask"].to(self.device)
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        return logits.float()

    def __repr__(self) -> str:
        return (
            f"AcousticModel({self.name!r}, {type(self.model).__name__}, device={self.device}, dtype={self.dtype}, "
            f"{len(self.vocabulary)} tokens, {self.frame_rate:g} frames/s)"
        )


def _check_waveform(item: Any, index: int) -> np.ndarray:
    if isinstance(item, torch.Tensor):
        item = item.detach().to("cpu").numpy()
    if not isinstance(item, np.ndarray):
        try:
            item = np.asarray(item)
        except (TypeError, ValueError):
            raise InputError(f"audio {index} is a {type(item).__name__}; expected a 1-D float waveform") from None
    if item.ndim != 1:
        raise InputError(
            f"audio {index} has shape {item.shape}; expected a 1-D mono waveform (down-mix channels first, e.g. "
            f"with load_audio)"
        )
    if not np.issubdtype(item.dtype, np.floating):
        raise InputError(
            f"audio {index} has dtype {item.dtype}; expected float samples in [-1, 1] (divide integer PCM by its "
            f"full scale, e.g. 32768 for int16, or use load_audio)"
        )
    if item.shape[0] == 0:
        raise InputError(f"audio {index} is empty (0 samples)")
    if not np.isfinite(item).all():
        raise InputError(f"audio {index} contains NaN or infinite samples")
    return item.astype(np.float32, copy=False)


def _min_samples(model: Any) -> int:
    """Smallest input length that gives one output frame (binary search on the model's formula)."""
    lo, hi = 1, 1 << 20
    while lo < hi:
        mid = (lo + hi) // 2
        if int(model._get_feat_extract_output_lengths(torch.tensor([mid]))[0]) >= 1:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _pad(
    rows: list[torch.Tensor], indices: tuple[int, ...], frame_rate: float, vocab: int, device: torch.device
) -> Emissions:
    lengths = torch.tensor([row.shape[0] for row in rows], dtype=torch.int64)
    frames = int(lengths.max()) if rows else 0
    logits = torch.zeros((len(rows), frames, vocab), dtype=torch.float32, device=device)
    for b, row in enumerate(rows):
        logits[b, : row.shape[0]] = row
    return Emissions(logits, lengths, indices, frame_rate)
