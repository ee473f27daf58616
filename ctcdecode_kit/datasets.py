"""Evaluation sets: utterances with reference transcripts, from five kinds of source.

:func:`load_dataset` detects (or is told with ``kind=``) what it was given:

``"folder"``
    a folder of audio files ``<id>.<ext>`` with a ``trans.txt`` (``id<TAB>text`` or
    ``id text`` per line);
``"librispeech"``
    a LibriSpeech tree: ``<speaker>/<chapter>/<speaker>-<chapter>.trans.txt`` beside
    ``.flac`` files (any ``*.trans.txt`` below the root is used);
``"manifest"``
    a NeMo-style JSON-lines manifest (``audio_filepath``, ``text``, optional
    ``duration`` and ``id``); relative paths are resolved against the manifest's folder;
``"hf"``
    a Hugging Face ``datasets`` dataset (an object, or ``"hf:NAME[:CONFIG]"`` with
    ``split=``); needs ``pip install datasets``; audio is decoded lazily row by row;
``"logits"``
    a folder of saved logits ``<id>.npy`` / ``<id>.pt`` with a ``trans.txt`` and
    optionally a ``vocab.json`` (then ``Dataset.vocabulary`` is set), for decode-only
    comparisons.

Every problem found is reported at once: all ids whose audio is missing, all empty
references (unless ``allow_empty_references=True``), every duplicate id.

Example:
    >>> from ctcdecode_kit import load_dataset
    >>> data = load_dataset("../shared/data/librispeech-audio")    # doctest: +SKIP
    >>> data.kind, len(data), data[0].id                           # doctest: +SKIP
    ('folder', 4, '1089-134686-0001')
    >>> audio = data[0].load_audio(16000)                          # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from .audio import AUDIO_SUFFIXES, load_audio, resample
from .errors import DatasetError, FileFormatError, InputError, MissingFileError, require
from .vocabulary import Vocabulary

__all__ = ["Dataset", "DatasetKind", "Utterance", "load_dataset", "read_transcript"]

DatasetKind = Literal["folder", "librispeech", "manifest", "hf", "logits"]
_KINDS = ("folder", "librispeech", "manifest", "hf", "logits")
_LOGITS_SUFFIXES = (".npy", ".pt", ".pth")
_TEXT_COLUMNS = ("text", "sentence", "transcription", "transcript", "normalized_text")
_ID_COLUMNS = ("id", "utt_id", "file", "path")


@dataclass(frozen=True, slots=True)
class Utterance:
    """One utterance: its id, reference text and where its signal comes from.

    Exactly one of ``path`` (an audio file), ``audio`` (a waveform at ``sampling_rate``)
    or ``logits`` (``[T, V]`` saved model output) is normally set; ``path`` may also
    name the logits file the logits came from.

    Attributes:
        id: unique id within the dataset.
        reference: the reference transcript ("" only with ``allow_empty_references``).
        path: the audio (or logits) file.
        audio: an in-memory mono float32 waveform (HF datasets).
        logits: saved logits ``[T, V]``.
        sampling_rate: the rate of ``audio`` (Hz).
        duration: seconds, when the source says (manifests, HF); used for sorting and reports.
    """

    id: str
    reference: str
    path: Path | None = None
    audio: np.ndarray | None = field(default=None, compare=False, repr=False)
    logits: np.ndarray | None = field(default=None, compare=False, repr=False)
    sampling_rate: int | None = None
    duration: float | None = None

    def load_audio(self, target_rate: int = 16000) -> np.ndarray:
        """The waveform as mono float32 at ``target_rate`` (decoding ``path`` if needed).

        Example:
            >>> Utterance("a", "HI", audio=np.zeros(8000, np.float32), sampling_rate=8000).load_audio(16000).shape
            (16000,)
        """
        if self.audio is not None:
            if self.sampling_rate is None or self.sampling_rate == target_rate:
                return self.audio
            return resample(self.audio, self.sampling_rate, target_rate)
        if self.path is not None and self.logits is None:
            return load_audio(self.path, target_rate=target_rate)
        raise InputError(f"utterance {self.id!r} has no audio (it holds {'logits' if self.logits is not None else 'nothing'})")


@dataclass(frozen=True, eq=False)
class Dataset(Sequence[Utterance]):
    """An ordered, indexable set of :class:`Utterance` objects.

    Attributes:
        kind: which kind of source it came from (see the module docs).
        source: the path or name it was loaded from.
        utterances: the utterances (a lazy sequence for HF datasets).
        vocabulary: the ``vocab.json`` of a saved-logits folder, else None.
    """

    kind: str
    source: str
    utterances: Sequence[Utterance]
    vocabulary: Vocabulary | None = None

    def __len__(self) -> int:
        return len(self.utterances)

    @overload
    def __getitem__(self, index: int) -> Utterance: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Utterance]: ...

    def __getitem__(self, index: Any) -> Any:
        return self.utterances[index]

    def __iter__(self) -> Iterator[Utterance]:
        for i in range(len(self.utterances)):
            yield self.utterances[i]

    @property
    def ids(self) -> list[str]:
        """Utterance ids in order."""
        return [u.id for u in self]

    @property
    def references(self) -> list[str]:
        """Reference transcripts in order."""
        return [u.reference for u in self]

    def __repr__(self) -> str:
        return f"Dataset(kind={self.kind!r}, source={self.source!r}, {len(self)} utterances)"


# ---------------------------------------------------------------------------- transcripts
def read_transcript(path: str | Path) -> list[tuple[str, str]]:
    """Read ``id<TAB>text`` / ``id text`` lines (blank lines skipped) as (id, text) pairs.

    Raises :class:`FileFormatError` naming the file and line for non-UTF-8 bytes, and
    :class:`DatasetError` listing every duplicate id.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "trans.txt"
        >>> _ = p.write_text("a\\tHELLO WORLD\\nb BYE\\n")
        >>> read_transcript(p)
        [('a', 'HELLO WORLD'), ('b', 'BYE')]
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"transcript {str(path)!r} does not exist")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    entries: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        try:
            line = line_bytes.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                f"transcript {str(path)!r} line {number} is not valid UTF-8 (byte 0x{line_bytes[exc.start]:02x} at "
                f"column {exc.start + 1}); re-encode the file as UTF-8"
            ) from None
        if not line.strip():
            continue
        parts = line.split("\t", 1) if "\t" in line else line.strip().split(None, 1)
        utt_id = parts[0].strip()
        text = " ".join(parts[1].split()) if len(parts) > 1 else ""
        if utt_id in seen:
            duplicates.append(f"{utt_id!r} (lines {seen[utt_id]} and {number})")
        seen.setdefault(utt_id, number)
        entries.append((utt_id, text))
    if duplicates:
        raise DatasetError(f"transcript {str(path)!r} repeats ids: {', '.join(duplicates)}")
    return entries


def _check_references(utterances: Sequence[Utterance], source: str, allow_empty: bool) -> None:
    if allow_empty:
        return
    empty = [u.id for u in utterances if not u.reference.strip()]
    if empty:
        raise DatasetError(
            f"{len(empty)} utterance(s) in {source!r} have an empty reference transcript: {', '.join(empty)}; "
            f"fix the transcript or pass allow_empty_references=True to score them (every word is an insertion)"
        )


def _check_unique(utterances: Sequence[Utterance], source: str) -> None:
    seen: set[str] = set()
    repeated = sorted({u.id for u in utterances if u.id in seen or seen.add(u.id)})  # type: ignore[func-returns-value]
    if repeated:
        raise DatasetError(f"dataset {source!r} has repeated utterance ids: {', '.join(repeated)}")


def _missing_error(what: str, source: str, missing: list[str]) -> DatasetError:
    return DatasetError(
        f"{len(missing)} utterance(s) of {source!r} name {what} that does not exist: {', '.join(missing)}"
    )


def _files_by_stem(folder: Path, suffixes: Sequence[str]) -> dict[str, Path]:
    """``{stem: path}`` for files in ``folder`` with one of ``suffixes`` (earlier suffixes win)."""
    found: dict[str, Path] = {}
    rank = {s: i for i, s in enumerate(suffixes)}
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if suffix in rank and path.is_file():
            previous = found.get(path.stem)
            if previous is None or rank[suffix] < rank[previous.suffix.lower()]:
                found[path.stem] = path
    return found


# ---------------------------------------------------------------------------- loaders
def _load_folder(folder: Path, transcript: Path, allow_empty: bool) -> list[Utterance]:
    entries = read_transcript(transcript)
    audio = _files_by_stem(folder, AUDIO_SUFFIXES)
    missing = [utt_id for utt_id, _ in entries if utt_id not in audio]
    if missing:
        raise _missing_error(f"audio ({'/'.join(s.lstrip('.') for s in AUDIO_SUFFIXES[:4])}) in {str(folder)!r}", str(transcript), missing)
    utterances = [Utterance(utt_id, text, path=audio[utt_id]) for utt_id, text in entries]
    _check_references(utterances, str(transcript), allow_empty)
    return utterances


def _load_librispeech(root: Path, allow_empty: bool) -> list[Utterance]:
    transcripts = sorted(root.rglob("*.trans.txt"))
    if not transcripts:
        raise DatasetError(f"{str(root)!r} holds no LibriSpeech transcripts (*/*/*.trans.txt)")
    utterances: list[Utterance] = []
    missing: list[str] = []
    for transcript in transcripts:
        audio = _files_by_stem(transcript.parent, AUDIO_SUFFIXES)
        for utt_id, text in read_transcript(transcript):
            if utt_id in audio:
                utterances.append(Utterance(utt_id, text, path=audio[utt_id]))
            else:
                missing.append(utt_id)
    if missing:
        raise _missing_error("audio", str(root), missing)
    _check_unique(utterances, str(root))
    _check_references(utterances, str(root), allow_empty)
    return utterances


def _load_manifest(manifest: Path, allow_empty: bool) -> list[Utterance]:
    base = manifest.parent
    rows: list[tuple[str | None, str, Path, float | None]] = []
    missing: list[str] = []
    for number, line in enumerate(_manifest_lines(manifest), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"manifest {str(manifest)!r} line {number} is not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DatasetError(f"manifest {str(manifest)!r} line {number} must be a JSON object, got {type(row).__name__}")
        absent = [key for key in ("audio_filepath", "text") if key not in row]
        if absent:
            raise DatasetError(
                f"manifest {str(manifest)!r} line {number} lacks {', '.join(absent)}; each line needs "
                f"'audio_filepath' and 'text' (NeMo format)"
            )
        if row.get("offset"):
            raise DatasetError(
                f"manifest {str(manifest)!r} line {number} has an 'offset': segments inside longer files are not supported"
            )
        path = Path(str(row["audio_filepath"])).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            missing.append(str(row.get("id") or path))
        duration = row.get("duration")
        rows.append((row.get("id"), str(row["text"]), path, float(duration) if duration is not None else None))
    if missing:
        raise _missing_error("an audio file", str(manifest), missing)
    stems = [p.stem for _, _, p, _ in rows]
    unique_stems = len(set(stems)) == len(stems)  # else ids are the paths, which are unique
    utterances = []
    for (given_id, text, path, duration), stem in zip(rows, stems):
        utt_id = str(given_id) if given_id is not None else stem if unique_stems else str(path)
        utterances.append(Utterance(utt_id, " ".join(text.split()), path=path, duration=duration))
    if not utterances:
        raise DatasetError(f"manifest {str(manifest)!r} holds no utterances")
    _check_unique(utterances, str(manifest))
    _check_references(utterances, str(manifest), allow_empty)
    return utterances


def _manifest_lines(manifest: Path) -> list[str]:
    raw = manifest.read_bytes()
    try:
        return raw.decode("utf-8-sig").split("\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileFormatError(f"manifest {str(manifest)!r} line {line} is not valid UTF-8") from None


def _load_logits(folder: Path, transcript: Path, allow_empty: bool) -> tuple[list[Utterance], Vocabulary | None]:
    from .logits_io import load_logits

    vocab_file = folder / "vocab.json"
    vocabulary = Vocabulary.from_file(vocab_file) if vocab_file.is_file() else None
    entries = read_transcript(transcript)
    files = _files_by_stem(folder, _LOGITS_SUFFIXES)
    missing = [utt_id for utt_id, _ in entries if utt_id not in files]
    if missing:
        raise _missing_error(f"a logits file (.npy/.pt) in {str(folder)!r}", str(transcript), missing)
    size = len(vocabulary) if vocabulary is not None else None
    utterances = [
        Utterance(utt_id, text, path=files[utt_id], logits=load_logits(files[utt_id], vocab_size=size))
        for utt_id, text in entries
    ]
    widths = {u.logits.shape[1] for u in utterances}  # type: ignore[union-attr]
    if len(widths) > 1:
        raise DatasetError(f"the logits in {str(folder)!r} have different vocabulary sizes {sorted(widths)}")
    _check_references(utterances, str(transcript), allow_empty)
    return utterances, vocabulary


class _HFUtterances(Sequence[Utterance]):
    """Rows of a ``datasets.Dataset`` turned into :class:`Utterance` objects on access."""

    def __init__(self, table: Any, audio_column: str, text_column: str, id_column: str | None) -> None:
        self.table, self.audio_column, self.text_column, self.id_column = table, audio_column, text_column, id_column

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"utterance index {index} out of range for {len(self)} utterances")
        row = self.table[int(index)]
        audio, rate, path = _hf_audio(row[self.audio_column], index)
        utt_id = str(row[self.id_column]) if self.id_column else str(index)
        return Utterance(
            utt_id,
            " ".join(str(row[self.text_column]).split()),
            path=Path(path) if path else None,
            audio=audio,
            sampling_rate=rate,
            duration=audio.shape[0] / rate,
        )


def _hf_audio(value: Any, index: int) -> tuple[np.ndarray, int, str | None]:
    """(mono float32 waveform, rate, path) from an HF audio cell (dict, or a torchcodec decoder)."""
    if isinstance(value, dict) and "array" in value:
        array, rate, path = np.asarray(value["array"], dtype=np.float32), int(value["sampling_rate"]), value.get("path")
    elif hasattr(value, "get_all_samples"):  # datasets >= 4 returns a torchcodec AudioDecoder
        samples = value.get_all_samples()
        array, rate, path = samples.data.numpy().astype(np.float32), int(samples.sample_rate), None
    else:
        raise DatasetError(f"row {index}: the audio column holds {type(value).__name__}; expected decoded audio")
    if array.ndim == 2:  # channels first from torchcodec, [N, C] from soundfile-style dicts
        array = array.mean(axis=0 if array.shape[0] < array.shape[1] else 1)
    return np.ascontiguousarray(array, dtype=np.float32), rate, path


def _load_hf(
    source: Any, split: str | None, audio_column: str, text_column: str | None, id_column: str | None, allow_empty: bool
) -> tuple[_HFUtterances, str]:
    if isinstance(source, str):
        datasets = require("datasets", pip_name="datasets", purpose="loading Hugging Face datasets")
        spec = source[3:].lstrip("/") if source.startswith("hf:") else source
        name, _, config = spec.partition(":")
        if not name:
            raise InputError(f"Hugging Face dataset source must look like 'hf:NAME[:CONFIG]', got {source!r}")
        table = datasets.load_dataset(name, config or None, split=split or "test")
        label = source
    else:
        table = source
        label = f"{type(source).__name__}({getattr(getattr(source, 'info', None), 'dataset_name', None) or ''})"
    if hasattr(table, "keys") and not hasattr(table, "column_names"):
        raise InputError(f"{label!r} is a DatasetDict with splits {list(table.keys())}; pass split=")
    columns = list(getattr(table, "column_names", None) or [])
    if isinstance(table, dict) or not columns:
        raise InputError(f"{label!r} is not a datasets.Dataset (no column_names)")
    if audio_column not in columns:
        raise DatasetError(f"dataset {label!r} has no audio column {audio_column!r}; columns: {columns}")
    text = text_column or next((c for c in _TEXT_COLUMNS if c in columns), None)
    if text is None or text not in columns:
        raise DatasetError(f"dataset {label!r} has no text column (looked for {text_column or _TEXT_COLUMNS}); columns: {columns}")
    ident = id_column or next((c for c in _ID_COLUMNS if c in columns and c != audio_column), None)
    if not allow_empty:
        references = table[text] if hasattr(table, "__getitem__") else []
        empty = [str(i) for i, t in enumerate(references) if not str(t).strip()]
        if empty:
            raise DatasetError(
                f"{len(empty)} row(s) of {label!r} have an empty reference (rows {', '.join(empty)}); pass "
                f"allow_empty_references=True to score them"
            )
    return _HFUtterances(table, audio_column, text, ident), label


def _detect(path: Path) -> tuple[str, Path | None]:
    """(kind, transcript path) for a local path."""
    if path.is_file():
        if path.suffix.lower() in (".jsonl", ".json", ".manifest"):
            return "manifest", None
        raise DatasetError(
            f"{str(path)!r} is a file but not a JSON-lines manifest (.jsonl/.json); a dataset is a folder with "
            f"trans.txt, a LibriSpeech tree, or a manifest"
        )
    transcript = path / "trans.txt"
    if not transcript.is_file():
        own = sorted(path.glob("*.trans.txt"))
        transcript = own[0] if len(own) == 1 else None  # a LibriSpeech chapter folder is also a folder dataset
    if transcript is not None:
        stems = {u for u, _ in read_transcript(transcript)}
        audio = set(_files_by_stem(path, AUDIO_SUFFIXES)) & stems
        logits = set(_files_by_stem(path, _LOGITS_SUFFIXES)) & stems
        if audio and logits:
            raise DatasetError(
                f"{str(path)!r} holds both audio and saved logits for its transcript; pass kind='folder' or kind='logits'"
            )
        return ("logits" if logits else "folder"), transcript
    if any(path.rglob("*.trans.txt")):
        return "librispeech", None
    manifests = sorted(path.glob("*.jsonl"))
    if len(manifests) == 1:
        return "manifest", manifests[0]
    raise DatasetError(
        f"cannot tell what dataset {str(path)!r} is: expected trans.txt with audio or logits files, a LibriSpeech "
        f"tree (*/*/*.trans.txt), or one manifest .jsonl"
    )


def load_dataset(
    source: Any,
    *,
    kind: str = "auto",
    split: str | None = None,
    allow_empty_references: bool = False,
    audio_column: str = "audio",
    text_column: str | None = None,
    id_column: str | None = None,
) -> Dataset:
    """Load an evaluation set; see the module docs for the five kinds.

    Args:
        source: a folder, a manifest file, a ``datasets.Dataset`` object or ``"hf:NAME[:CONFIG]"``.
        kind: ``"auto"`` (detect) or one of ``folder``, ``librispeech``, ``manifest``, ``hf``, ``logits``.
        split: split of an ``"hf:..."`` dataset (default ``"test"``).
        allow_empty_references: keep utterances whose reference is empty instead of failing.
        audio_column / text_column / id_column: columns of an HF dataset (text and id are
            detected among common names when None).

    Raises:
        MissingFileError: ``source`` does not exist.
        DatasetError: transcripts naming missing files (all listed), empty references,
            repeated ids, or an undetectable layout.
        FileFormatError: a transcript or manifest that is not UTF-8 / not JSON (file and line named).
        MissingDependencyError: an HF dataset without ``datasets`` installed.

    Example:
        >>> data = load_dataset("../shared/data/wav2vec2-logits")     # doctest: +SKIP
        >>> data.kind, data[0].logits.shape, len(data.vocabulary)     # doctest: +SKIP
        ('logits', (422, 32), 32)
    """
    if kind != "auto" and kind not in _KINDS:
        raise InputError(f"kind must be 'auto' or one of {', '.join(_KINDS)}, got {kind!r}")
    if kind == "hf" or not isinstance(source, (str, Path)) or (isinstance(source, str) and source.startswith("hf:")):
        utterances, label = _load_hf(source, split, audio_column, text_column, id_column, allow_empty_references)
        return Dataset("hf", label, utterances)
    path = Path(source).expanduser()
    if not path.exists():
        raise MissingFileError(f"dataset {str(source)!r} does not exist")
    detected, transcript = _detect(path) if kind == "auto" else (kind, None)
    if detected in ("folder", "logits") and transcript is None:
        transcript = path / "trans.txt"
        if not transcript.is_file():
            raise MissingFileError(f"dataset folder {str(path)!r} has no trans.txt ('id<TAB>text' per line)")
    if detected == "folder":
        return Dataset("folder", str(source), tuple(_load_folder(path, transcript, allow_empty_references)))  # type: ignore[arg-type]
    if detected == "logits":
        utterances, vocabulary = _load_logits(path, transcript, allow_empty_references)  # type: ignore[arg-type]
        return Dataset("logits", str(source), tuple(utterances), vocabulary)
    if detected == "librispeech":
        return Dataset("librispeech", str(source), tuple(_load_librispeech(path, allow_empty_references)))
    manifest = transcript if transcript is not None else path
    if manifest.is_dir():
        raise DatasetError(f"kind='manifest' needs a manifest file, got the folder {str(path)!r}")
    return Dataset("manifest", str(source), tuple(_load_manifest(manifest, allow_empty_references)))
