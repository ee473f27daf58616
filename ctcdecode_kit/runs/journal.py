"""Crash-safe result files: atomic whole-file writes and an append-only JSONL journal.

A long run appends one JSON line per finished piece of work to a journal and flushes it
to disk (fsync) before moving on, so killing the process at any moment loses at most the
piece in flight. On resume the journal is read back; a torn last line (the process died
mid-write) is dropped, while a corrupt line in the middle, or a journal written with
different settings, raises :class:`~ctcdecode_kit.errors.ResultsError` rather than being
trusted. Summary files (``results.json``, ``.csv``, ``.png``) are written to a temporary
file and renamed, so they are either the old or the new version, never half of one.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> journal = Journal(folder / "hyps.jsonl", header={"run": "demo"})
    >>> journal.append({"utt": "a", "text": "HI"})
    >>> [r["text"] for r in Journal(folder / "hyps.jsonl", header={"run": "demo"}, resume=True).records]
    ['HI']
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError, ResultsError

__all__ = ["Journal", "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "ensure_output_dir"]


def ensure_output_dir(path: str | Path) -> Path:
    """Create ``path`` (and parents) and check that it is writable, with a clear error."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-", delete=True)
        probe.close()
    except FileExistsError as exc:
        raise InputError(f"output path {str(path)!r} exists and is not a directory") from exc
    except OSError as exc:
        raise InputError(f"output directory {str(path)!r} is not writable ({exc.strerror or exc})") from exc
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


class Journal:
    """Append-only JSONL file whose first line is a header describing the run.

    Args:
        path: the ``.jsonl`` file.
        header: settings that must match when resuming (a different header means the
            earlier results belong to another run and are refused). None: no header line,
            every line is a record (for files other tools read line by line; the run's
            ``run.json`` is then what ties the file to its settings).
        resume: read existing records back; without it an existing file is replaced.
    """

    def __init__(self, path: str | Path, *, header: dict[str, Any] | None, resume: bool = False) -> None:
        self.path = Path(path)
        self.header = None if header is None else json.loads(json.dumps(header))
        self.records: list[dict[str, Any]] = []
        if resume and self.path.exists():
            self.records = self._read()
        elif self.header is None:
            atomic_write_text(self.path, "")
        else:
            atomic_write_text(self.path, json.dumps({"header": self.header}, ensure_ascii=False) + "\n")

    def _read(self) -> list[dict[str, Any]]:
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        torn = lines[-1] != b""
        complete = lines[:-1]
        if not complete and self.header is None:
            if torn:
                atomic_write_bytes(self.path, b"")
            return []
        if not complete:
            raise ResultsError(f"results journal {str(self.path)!r} has no header line; it is not from this tool")
        records: list[dict[str, Any]] = []
        for number, line in enumerate(complete, start=1):
            try:
                obj = json.loads(line.decode("utf-8"))
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ResultsError(
                    f"results journal {str(self.path)!r} is corrupt at line {number} ({exc}); "
                    f"delete it or choose another --output to start over"
                ) from None
            if number == 1 and self.header is not None:
                if obj.get("header") != self.header:
                    raise ResultsError(
                        f"results journal {str(self.path)!r} was written by a run with other settings "
                        f"({json.dumps(obj.get('header'))[:300]}); use another --output or drop --resume"
                    )
                continue
            records.append(obj)
        if torn:
            # the process died while writing the last line: drop it and rewrite the file cleanly
            atomic_write_bytes(self.path, b"\n".join(complete) + b"\n")
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Append one record and fsync it."""
        self.extend([record])

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        """Append several records with one fsync."""
        records = list(records)
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        with open(self.path, "ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.records.extend(records)
