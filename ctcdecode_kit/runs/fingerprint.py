"""What produced a run's output folder, and when that folder may be reused.

A run writes ``run.json`` into its output folder before any work: a fingerprint of
everything its results depend on (the acoustic model's path or hub id with a cheap
fingerprint of its files or the hub revision; every dataset item with the size and
modification time of its file, or a hash of an in-memory array; the batching and
chunking settings; the vocabulary; the decoder specs and weights; the LM file's size and
modification time; the kit's version). Reading file sizes and times costs microseconds
per file, so checking a 2,620-utterance test set is instant, and a changed file is caught
even when its name is not.

:meth:`RunFolder.prepare` then decides:

* an empty or new folder: the run starts there;
* the same fingerprint: the cached logits are reused and everything is decoded afresh
  (with ``resume``, finished decodes are kept too);
* another fingerprint, or results without a ``run.json`` (an older kit): refused with one
  line naming ``--resume``, ``--overwrite`` and ``--output``; with ``resume`` the message
  names the setting that changed;
* ``overwrite``: the files the kit wrote there (results, journals, logits) are deleted
  first; other files are left alone.

:func:`default_output_dir` derives a folder name from the data, the model and the
fingerprint (``ctcdecode-kit-runs/<data>-<model>-<hash>``), so runs that differ in
anything never meet in one folder unless the user asks for it with ``--output``.

Example:
    >>> import tempfile
    >>> folder = RunFolder(Path(tempfile.mkdtemp()), ("hyps.jsonl",), ("logits",))
    >>> folder.prepare({"command": "demo", "alpha": 0.5}, resume=False, overwrite=False)
    >>> folder.prepare({"command": "demo", "alpha": 0.9}, resume=True, overwrite=False)
    Traceback (most recent call last):
    ...
    ctcdecode_kit.errors.ResultsError: cannot --resume the run in '...': it was made with other settings (alpha: 0.5 -> 0.9); ...
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import ResultsError
from .journal import atomic_write_json

__all__ = [
    "RUN_FILE",
    "RunFolder",
    "array_digest",
    "default_output_dir",
    "describe_change",
    "digest",
    "file_fingerprint",
    "lm_fingerprint",
    "model_fingerprint",
    "utterances_fingerprint",
]

RUN_FILE = "run.json"
DEFAULT_RUNS_DIR = Path("ctcdecode-kit-runs")


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """``{"path", "size", "mtime_ns"}`` of a file (its absolute path; no content is read).

    Example:
        >>> sorted(file_fingerprint(__file__))
        ['mtime_ns', 'path', 'size']
    """
    path = Path(path).expanduser().absolute()
    stat = path.stat()
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def array_digest(array: Any) -> str:
    """A short content hash of an in-memory array (numpy or torch) with its shape and dtype.

    Example:
        >>> array_digest(np.zeros(3)) == array_digest(np.zeros(3)), array_digest(np.zeros(3)) == array_digest(np.ones(3))
        (True, False)
    """
    if hasattr(array, "detach"):
        array = array.detach().to("cpu").numpy()
    array = np.ascontiguousarray(array)
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{array.shape}{array.dtype.str}".encode())
    h.update(memoryview(array).cast("B"))
    return h.hexdigest()


def digest(fingerprint: Any) -> str:
    """The hex SHA-256 of a fingerprint's canonical JSON.

    Example:
        >>> digest({"a": 1}) == digest({"a": 1}), len(digest({"a": 1}))
        (True, 64)
    """
    text = json.dumps(fingerprint, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _text_digest(texts: Iterable[str]) -> str:
    h = hashlib.blake2b(digest_size=12)
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def utterances_fingerprint(utterances: Sequence[Any]) -> dict[str, Any]:
    """Every item by id: its file's size and mtime, or a hash of its in-memory audio/logits.

    The references are fingerprinted too (one hash), since the scores depend on them.

    Example:
        >>> from ctcdecode_kit.datasets import Utterance
        >>> utterances_fingerprint([Utterance("a", "HI", audio=np.zeros(4, np.float32), sampling_rate=16000)])["items"]
        {'a': {'audio': '...', 'sampling_rate': 16000}}
    """
    items: dict[str, Any] = {}
    for utt in utterances:
        path = getattr(utt, "path", None)
        if path is not None:
            item: dict[str, Any] = file_fingerprint(path)
        elif getattr(utt, "logits", None) is not None:
            item = {"logits": array_digest(utt.logits)}
        elif getattr(utt, "audio", None) is not None:
            item = {"audio": array_digest(utt.audio), "sampling_rate": getattr(utt, "sampling_rate", None)}
        else:
            item = {}
        items[str(utt.id)] = item
    return {"items": items, "references": _text_digest(u.reference for u in utterances)}


_WEIGHT_FILES = re.compile(r".*\.(safetensors|bin|pt|pth|ckpt|msgpack|h5|json|txt|model)$")


def model_fingerprint(model: Any) -> dict[str, Any] | None:
    """The acoustic model: its folder's files (size + mtime), or its hub id and revision; dtype and device kind.

    Example:
        >>> model_fingerprint(None) is None
        True
    """
    if model is None:
        return None
    name = str(getattr(model, "name", "") or type(model).__name__)
    device = getattr(model, "device", None)
    # CPU and GPU kernels give slightly different logits: a run on the other kind is another run
    out: dict[str, Any] = {
        "name": name,
        "dtype": str(getattr(model, "dtype", "")),
        "device": str(getattr(device, "type", device or "")),
    }
    folder = Path(name).expanduser()
    if name and folder.is_dir():
        out["name"] = str(folder.absolute())
        out["files"] = {
            p.name: {"size": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns}
            for p in sorted(folder.iterdir())
            if p.is_file() and _WEIGHT_FILES.match(p.name)
        }
    elif name and folder.is_file():  # a single-file model (ONNX): editing the file is another run
        out["name"] = str(folder.absolute())
        out["files"] = {folder.name: {"size": folder.stat().st_size, "mtime_ns": folder.stat().st_mtime_ns}}
    else:
        config = getattr(getattr(model, "model", None), "config", None)
        out["revision"] = getattr(config, "_commit_hash", None)
    return out


def lm_fingerprint(lm: Any) -> Any:
    """The language model: a file's size and mtime, or an object's type (its content cannot be seen).

    Example:
        >>> lm_fingerprint(None) is None
        True
    """
    if lm is None:
        return None
    if isinstance(lm, (str, Path)):
        path = Path(lm).expanduser()
        return file_fingerprint(path) if path.exists() else {"path": str(path.absolute())}
    source = getattr(lm, "path", None)
    if isinstance(source, (str, Path)) and Path(source).exists():
        return {"object": type(lm).__name__, **file_fingerprint(source)}
    return {"object": type(lm).__name__}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_change(old: Any, new: Any, where: str = "") -> str | None:
    """The first setting that differs between two fingerprints, in words (None: equal).

    Example:
        >>> describe_change({"lm": {"size": 1}, "alpha": 0.5}, {"lm": {"size": 2}, "alpha": 0.5})
        'lm.size: 1 -> 2'
        >>> describe_change({"data": {"items": {"a": {}}}}, {"data": {"items": {"a": {}, "b": {}}}})
        "data.items: item 'b' added"
    """
    if isinstance(old, dict) and isinstance(new, dict):
        if where.endswith("items"):
            added = [k for k in new if k not in old]
            removed = [k for k in old if k not in new]
            if added or removed:
                key, verb = (added[0], "added") if added else (removed[0], "removed")
                more = len(added) + len(removed) - 1
                return f"{where}: item {key!r} {verb}" + (f" (and {more} more)" if more else "")
        for key in list(old) + [k for k in new if k not in old]:
            path = f"{where}.{key}" if where else str(key)
            if key not in new or key not in old:
                return f"{path}: {_short(old.get(key))} -> {_short(new.get(key))}"
            change = describe_change(old[key], new[key], path)
            if change is not None:
                return change
        return None
    if old != new:
        return f"{where}: {_short(old)} -> {_short(new)}"
    return None


def _slug(text: str, limit: int = 40) -> str:
    name = Path(str(text).rstrip("/\\")).name or str(text)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    return slug[:limit] or "run"


def default_output_dir(data: str | None, model: str | None, fingerprint: Any, *, prefix: str = "") -> Path:
    """``ctcdecode-kit-runs/[<prefix>-]<data>-<model>-<8-hex hash of the fingerprint>``.

    Example:
        >>> default_output_dir("/data/LibriSpeech/test-clean", "facebook/wav2vec2-base-960h", {"a": 1}).name
        'test-clean-wav2vec2-base-960h-f9d86028'
    """
    parts = [prefix] if prefix else []
    parts += [_slug(data or "data"), _slug(model or "logits"), digest(fingerprint)[:8]]
    return DEFAULT_RUNS_DIR / "-".join(parts)


@dataclass(frozen=True)
class RunFolder:
    """An output folder and the names of the files and folders a run of the kit writes there.

    Attributes:
        path: the folder.
        files: file names the run writes (results, journals, plots), besides ``run.json``.
        folders: sub-folders the run owns entirely (``logits``); only ``*.npy`` files and
            the kit's temporary files in them are deleted by ``overwrite``.
    """

    path: Path
    files: tuple[str, ...]
    folders: tuple[str, ...] = ()

    def _outputs(self) -> list[Path]:
        found = [self.path / name for name in self.files if (self.path / name).exists()]
        if self.path.is_dir():  # temporary files of interrupted atomic writes of those files
            found += sorted(p for p in self.path.glob(".*.tmp") if p.name[1:].split(".tmp")[0].rsplit(".", 1)[0] in self.files)
        for name in self.folders:
            folder = self.path / name
            if folder.is_dir():
                found += sorted(p for p in folder.iterdir() if _ours(p))
        return found

    def read(self) -> dict[str, Any] | None:
        """The fingerprint recorded in ``run.json`` (None: there is none)."""
        record = self.path / RUN_FILE
        if not record.exists():
            return None
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            return data["fingerprint"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise ResultsError(
                f"{str(record)!r} is corrupt, so the results beside it cannot be checked; use --overwrite to "
                f"start afresh there, or another --output"
            ) from None

    def prepare(self, fingerprint: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
        """Check the folder against ``fingerprint`` (see the module docs), then record it."""
        if resume and overwrite:
            raise ResultsError("--resume continues a run and --overwrite deletes it; give one of them")
        fingerprint = json.loads(json.dumps(fingerprint, default=str))
        if overwrite:
            self.clear()
        else:
            self._check(fingerprint, resume)
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            self.path / RUN_FILE,
            {"written_by": f"ctcdecode-kit {__version__}", "digest": digest(fingerprint), "fingerprint": fingerprint},
        )

    def _check(self, fingerprint: dict[str, Any], resume: bool) -> None:
        where = str(self.path)
        recorded = self.read()
        if recorded is None:
            if self._outputs():
                raise ResultsError(
                    f"output folder {where!r} holds results without a {RUN_FILE} (from an older ctcdecode-kit?), "
                    f"so what produced them cannot be checked and --resume cannot continue them; use --overwrite to "
                    f"delete them and start afresh, or another --output"
                )
            return
        change = describe_change(recorded, fingerprint)
        if change is None:
            return
        if resume:
            raise ResultsError(
                f"cannot --resume the run in {where!r}: it was made with other settings ({change}); drop "
                f"--resume and use --overwrite to start afresh there, or another --output"
            )
        raise ResultsError(
            f"output folder {where!r} holds a run with other settings ({change}); use --overwrite to delete it "
            f"and start afresh, another --output (or none, for a folder of its own), or the same settings with "
            f"--resume to continue it"
        )

    def clear(self) -> None:
        """Delete what the kit wrote here (``run.json``, the run's files, its logits); nothing else."""
        for path in [self.path / RUN_FILE, *self._outputs()]:
            if path.is_file() or path.is_symlink():
                path.unlink()
        for name in self.folders:
            folder = self.path / name
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def _ours(path: Path) -> bool:
    """A cache file the kit writes (``*.npy``) or a temporary file it left behind."""
    name = path.name
    return path.is_file() and (name.endswith(".npy") or (name.startswith(".") and name.endswith(".tmp")))

