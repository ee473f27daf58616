"""Reading and checking ARPA n-gram files before KenLM sees them.

KenLM aborts on a malformed ARPA file with messages that rarely say where the problem
is. :func:`inspect_arpa` reads the file once, in Python, and raises
:class:`ArpaFormatError` naming the line number and its content (bad or missing
``\\data\\`` header, bad ``ngram N=count`` lines, a section whose entry count differs
from the header, a non-numeric score, a missing ``\\end\\``). It also returns the
unigram list -- all of it: pyctcdecode's ``load_unigram_set_from_arpa`` keeps only the
unigram lines that have a backoff weight (it splits on tabs and wants exactly three
fields), so a pruned LM whose unigrams mostly have no backoff, like LibriSpeech's
``3-gram.pruned.arpa`` (200,003 unigrams), yields just 289 of them.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.arpa"
    >>> _ = path.write_text("\\\\data\\\\\\nngram 1=3\\n\\n\\\\1-grams:\\n-1.0\\t<s>\\n-0.5\\thello\\n"
    ...                     "-0.5\\t</s>\\n\\n\\\\end\\\\\\n")
    >>> info = inspect_arpa(path)
    >>> info.order, info.counts, info.unigrams
    (1, (3,), ('hello',))
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ctcdecode_kit.errors import FileFormatError, LanguageModelError, MissingFileError

__all__ = ["KENLM_BINARY_MAGIC", "ArpaFormatError", "ArpaInfo", "SENTENCE_MARKERS", "decompressor", "inspect_arpa", "is_kenlm_binary"]

SENTENCE_MARKERS = frozenset({"<s>", "</s>", "<unk>"})
"""ARPA pseudo-words that are never returned as unigrams."""

KENLM_BINARY_MAGIC = b"mmap lm "
"""How every KenLM binary (``build_binary`` output) starts."""
_GZIP_MAGIC = b"\x1f\x8b"
_SHOWN = 80  # characters of a bad line quoted in messages


class ArpaFormatError(FileFormatError, LanguageModelError):
    """An ARPA file is empty or malformed; the message names the line (a FileFormatError and a LanguageModelError)."""


@dataclass(frozen=True, slots=True)
class ArpaInfo:
    """What :func:`inspect_arpa` found: ``order``, per-order ``counts`` and the ``unigrams``.

    ``unigrams`` are the words of the ``\\1-grams:`` section in file order, without
    ``<s>``, ``</s>`` and ``<unk>``.
    """

    path: Path
    order: int
    counts: tuple[int, ...]
    unigrams: tuple[str, ...]


def is_kenlm_binary(path: str | Path) -> bool:
    """True when ``path`` is a KenLM binary model (written by ``build_binary``)."""
    with open(path, "rb") as f:
        return f.read(len(KENLM_BINARY_MAGIC)) == KENLM_BINARY_MAGIC


def decompressor(head: bytes) -> Any:
    """The module (gzip, bz2 or lzma) that decompresses a file starting with ``head``, or None.

    Example:
        >>> decompressor(b"\\x1f\\x8b\\x08").__name__, decompressor(b"\\\\data\\\\") is None
        ('gzip', True)
    """
    if head.startswith(_GZIP_MAGIC):
        return gzip
    if head.startswith(b"BZh"):
        return bz2
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma
    return None


def _open_text(path: Path) -> IO[str]:
    """The file as text, decompressed on the fly when it is gzip, bzip2 or xz."""
    with open(path, "rb") as f:
        module = decompressor(f.read(6))
    if module is not None:
        return module.open(path, "rt", encoding="utf-8", errors="surrogateescape")
    return open(path, encoding="utf-8", errors="surrogateescape")


class _Lines:
    """Numbered lines of a file with one line of look-ahead."""

    def __init__(self, stream: IO[str]) -> None:
        self._it: Iterator[str] = iter(stream)
        self.number = 0
        self._pending: str | None = None

    def next(self) -> str | None:
        if self._pending is not None:
            line, self._pending = self._pending, None
            self.number += 1
            return line
        try:
            line = next(self._it)
        except StopIteration:
            return None
        self.number += 1
        return line.rstrip("\r\n")

    def push_back(self, line: str) -> None:
        self._pending = line
        self.number -= 1

    def next_nonblank(self) -> str | None:
        while True:
            line = self.next()
            if line is None or line.strip():
                return line


def inspect_arpa(path: str | Path, *, validate: bool = True) -> ArpaInfo:
    """Check an ARPA file (plain or gzipped) and return its order, counts and unigrams.

    With ``validate=False`` only the header and the unigram section are read (for very
    large files whose higher orders you trust).

    Raises:
        MissingFileError: the file does not exist.
        ArpaFormatError: the file is empty, has no ``\\data\\`` header, declares order 0,
            has a bad count or score, or a section disagrees with the header; the message
            gives the line number and the line.
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"language model file {str(path)!r} does not exist")
    if path.is_dir():
        raise ArpaFormatError(f"language model path {str(path)!r} is a folder; expected an ARPA or KenLM binary file")
    if path.stat().st_size == 0:
        raise ArpaFormatError(f"ARPA file {str(path)!r} is empty; expected a '\\data\\' header and n-gram sections")
    with _open_text(path) as stream:
        try:
            return _parse(path, _Lines(stream), validate)
        except UnicodeDecodeError as exc:  # only raised through gzip
            raise ArpaFormatError(f"ARPA file {str(path)!r} cannot be decoded: {exc}") from exc
        except (OSError, EOFError) as exc:
            raise ArpaFormatError(f"ARPA file {str(path)!r} cannot be read: {exc}") from exc


def _where(path: Path, number: int, line: str) -> str:
    shown = line if len(line) <= _SHOWN else line[:_SHOWN] + "..."
    return f"ARPA file {str(path)!r}, line {number}: {shown!r}"


def _parse(path: Path, lines: _Lines, validate: bool) -> ArpaInfo:
    first = lines.next_nonblank()
    if first is None:
        raise ArpaFormatError(f"ARPA file {str(path)!r} holds only blank lines; expected a '\\data\\' header")
    if first.strip() != "\\data\\":
        raise ArpaFormatError(
            f"{_where(path, lines.number, first)}: expected the ARPA header '\\data\\' as the first "
            f"non-blank line (is this an ARPA file?)"
        )
    counts = _read_counts(path, lines)
    unigrams: list[str] = []
    for order in range(1, len(counts) + 1):
        if order > 1 and not validate:
            break
        _read_section(path, lines, order, counts[order - 1], unigrams if order == 1 else None)
    if validate:
        end = lines.next_nonblank()
        if end is None:
            raise ArpaFormatError(
                f"ARPA file {str(path)!r} ends at line {lines.number} without the closing '\\end\\' "
                f"(is the file truncated?)"
            )
        if end.strip() != "\\end\\":
            raise ArpaFormatError(
                f"{_where(path, lines.number, end)}: expected '\\end\\' after the {len(counts)}-grams"
            )
    if not unigrams and validate:
        raise ArpaFormatError(
            f"ARPA file {str(path)!r} has no words in its \\1-grams: section besides <s>, </s> and <unk>"
        )
    return ArpaInfo(path, len(counts), tuple(counts), tuple(unigrams))


def _read_counts(path: Path, lines: _Lines) -> list[int]:
    counts: list[int] = []
    while True:
        line = lines.next()
        if line is None:
            break
        text = line.strip()
        if not text:
            if counts:
                break
            continue
        if text.startswith("\\"):
            lines.push_back(line)
            break
        key, eq, value = text.partition("=")
        words = key.split()
        if not eq or len(words) != 2 or words[0] != "ngram" or not words[1].isdigit():
            raise ArpaFormatError(f"{_where(path, lines.number, line)}: expected a count line 'ngram N=COUNT'")
        order = int(words[1])
        try:
            count = int(value.strip())
        except ValueError:
            count = -1
        if count < 0:
            raise ArpaFormatError(
                f"{_where(path, lines.number, line)}: the count of {order}-grams must be a whole number >= 0"
            )
        if order != len(counts) + 1:
            if order == 0:
                raise ArpaFormatError(
                    f"{_where(path, lines.number, line)}: n-gram order 0 is not valid; orders start at 1"
                )
            raise ArpaFormatError(
                f"{_where(path, lines.number, line)}: expected 'ngram {len(counts) + 1}=...' next "
                f"(orders must be listed 1, 2, 3... without gaps)"
            )
        counts.append(count)
    if not counts:
        raise ArpaFormatError(
            f"ARPA file {str(path)!r}: the '\\data\\' section lists no 'ngram N=COUNT' lines, so the "
            f"model has order 0; expected at least 'ngram 1=...'"
        )
    if counts[0] == 0:
        raise ArpaFormatError(f"ARPA file {str(path)!r}: 'ngram 1=0' declares no unigrams; the model is empty")
    return counts


def _read_section(path: Path, lines: _Lines, order: int, expected: int, unigrams: list[str] | None) -> None:
    header = lines.next_nonblank()
    title = f"\\{order}-grams:"
    if header is None:
        raise ArpaFormatError(
            f"ARPA file {str(path)!r} ends at line {lines.number} before the '{title}' section "
            f"that its header announces (is the file truncated?)"
        )
    if header.strip() != title:
        raise ArpaFormatError(f"{_where(path, lines.number, header)}: expected the section header '{title}'")
    start = lines.number
    seen = 0
    while True:
        line = lines.next()
        if line is None:
            break
        fields = line.split()
        if not fields:
            break
        if fields[0].startswith("\\"):
            lines.push_back(line)
            break
        seen += 1
        if len(fields) not in (order + 1, order + 2):
            raise ArpaFormatError(
                f"{_where(path, lines.number, line)}: a {order}-gram line needs a log10 probability, "
                f"{order} word(s) and an optional backoff weight; found {len(fields)} fields"
            )
        _check_number(path, lines.number, line, fields[0], "log10 probability")
        if len(fields) == order + 2:
            _check_number(path, lines.number, line, fields[-1], "backoff weight")
        if unigrams is not None and fields[1] not in SENTENCE_MARKERS:
            unigrams.append(fields[1])
    if seen != expected:
        raise ArpaFormatError(
            f"ARPA file {str(path)!r}: the header declares {expected} {order}-grams but the '{title}' "
            f"section (from line {start}) has {seen}"
        )


def _check_number(path: Path, number: int, line: str, field: str, what: str) -> None:
    try:
        value = float(field)
    except ValueError:
        raise ArpaFormatError(f"{_where(path, number, line)}: the {what} {field!r} is not a number") from None
    if math.isnan(value) or value == math.inf:
        raise ArpaFormatError(f"{_where(path, number, line)}: the {what} {field!r} is not a finite number")
