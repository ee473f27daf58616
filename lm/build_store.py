"""Arrays on disk and the bounded-memory steps behind :func:`ctcdecode_kit.lm.build_arpa` (numpy).

:func:`build_arpa` keeps every array that grows with the corpus (n-gram keys, counts, suffix
rows, probabilities, backoffs) in files, as :class:`Column` objects, and works on them in
blocks whose size comes from a memory budget (:class:`Budget`, ``memory="1G"``). Three
steps need one array indexed by another one (``values[index]``); each is done in *pieces*
of the indexed array that fit the budget, streaming the index once per piece, so that
memory stays bounded and only the time grows (one more pass per piece) when the data
outgrows the budget:

* :func:`gather`: ``out[i] = values[index[i]]`` (e.g. the lower-order probability of each
  n-gram's suffix);
* :func:`count_into`: ``out[j] = #{i: index[i] == j}`` (continuation counts, pruning marks);
* :func:`lookup_rows`: the row of a sorted key table holding each query (suffix rows).

:func:`merge_runs` merges sorted runs of ``(key, count)`` spilled while counting (a k-way
merge, one vectorised block at a time).

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> values = Column.create(folder / "v.f8", np.float64, [np.array([0.5, 1.5, 2.5])])
    >>> index = Column.create(folder / "i.i4", np.int32, [np.array([2, 0, 2, 1])])
    >>> tiny = Budget(MIN_MEMORY)
    >>> gather(values, lambda: index.blocks(2), len(index), folder / "o.f8", tiny).load().tolist()
    [2.5, 0.5, 2.5, 1.5]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctcdecode_kit.errors import InputError

__all__ = [
    "DEFAULT_MEMORY",
    "MIN_MEMORY",
    "Budget",
    "Column",
    "count_into",
    "gather",
    "lookup",
    "lookup_rows",
    "merge_runs",
    "parse_memory",
]

DEFAULT_MEMORY = 1 << 30
"""Default budget of :func:`build_arpa`: 1 GiB for the arrays that grow with the corpus."""
MIN_MEMORY = 1 << 16
"""Smallest budget accepted (64 KiB: absurdly slow, but it works; tests use it to force spills)."""

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)


def parse_memory(value: int | str) -> int:
    """A memory budget in bytes from an int or a string like ``"1G"``, ``"512M"``, ``"64K"``, ``"2GB"``.

    Units are binary (``K`` = 1024 bytes); a bare number is bytes.

    Example:
        >>> parse_memory("1G"), parse_memory("1.5M"), parse_memory(100_000)
        (1073741824, 1572864, 100000)
    """
    size: float | None = None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        size = int(value)
    elif isinstance(value, str):
        match = _SIZE.fullmatch(value)
        if match is not None:
            size = float(match[1]) * _UNITS[match[2].upper()]
    if size is None or size < MIN_MEMORY:
        raise InputError(
            f"memory must be a size in bytes of at least 64K, as a number or a string such as '1G', '500M' "
            f"or '64K', got {value!r}"
        )
    return int(size)


@dataclass(frozen=True)
class Budget:
    """Block and piece sizes derived from a memory budget in bytes.

    The budget covers the arrays that grow with the corpus; the interpreter, numpy and the
    vocabulary (word list, per-word arrays) come on top of it.
    """

    memory: int = DEFAULT_MEMORY

    def chunk_tokens(self, cap: int) -> int:
        """Corpus tokens counted at a time (about 100 bytes of temporaries each)."""
        return min(cap, max(16, self.memory // 160))

    @property
    def run_rows(self) -> int:
        """Distinct n-grams held while counting before they are spilled as a sorted run (12 bytes each,
        twice that while a chunk is merged in)."""
        return max(64, self.memory // 64)

    def block_rows(self, cap: int) -> int:
        """Rows streamed per block (about 150 bytes of temporaries each while estimating)."""
        return min(cap, max(16, self.memory // 512))

    def piece_rows(self, itemsize: int) -> int:
        """Rows of an indexed array held at once by :func:`gather`, :func:`count_into`, :func:`lookup_rows`."""
        return max(16, self.memory // 4 // itemsize)

    def merge_rows(self, runs: int) -> int:
        """Rows read from each run per round of :func:`merge_runs`."""
        return max(16, self.memory // 8 // (24 * max(runs, 1)))


class Column:
    """A 1-D numpy array in a file, read and written in blocks (never mapped whole).

    Example:
        >>> import tempfile
        >>> column = Column.create(Path(tempfile.mkdtemp()) / "x.i8", np.int64, [np.arange(3), np.arange(2)])
        >>> len(column), column.read(1, 4).tolist(), column.search(2)
        (5, [1, 2, 0], 2)
    """

    def __init__(self, path: Path, dtype: np.dtype | type, length: int) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.length = length

    def __len__(self) -> int:
        return self.length

    @classmethod
    def create(cls, path: Path, dtype: np.dtype | type, blocks: Iterable[np.ndarray]) -> Column:
        """Write the blocks one after another."""
        length = 0
        with open(path, "wb") as out:
            for block in blocks:
                np.ascontiguousarray(block, dtype=dtype).tofile(out)
                length += len(block)
        return cls(path, dtype, length)

    @classmethod
    def full(cls, path: Path, dtype: np.dtype | type, length: int, value: object, rows: int) -> Column:
        """A column of ``length`` copies of ``value``, written ``rows`` at a time."""
        one = np.full(min(rows, length), value, dtype=dtype)
        return cls.create(path, dtype, (one[: min(rows, length - a)] for a in range(0, length, rows)))

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` as a new array."""
        stop = min(stop, self.length)
        if stop <= start:
            return np.zeros(0, dtype=self.dtype)
        with open(self.path, "rb") as f:
            f.seek(start * self.dtype.itemsize)
            return np.fromfile(f, dtype=self.dtype, count=stop - start)

    def load(self) -> np.ndarray:
        """Every row (only for columns known to fit the budget)."""
        return self.read(0, self.length)

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, rows [start, start + rows))`` blocks, in order."""
        with open(self.path, "rb") as f:
            for start in range(0, self.length, rows):
                yield start, np.fromfile(f, dtype=self.dtype, count=min(rows, self.length - start))

    def write_at(self, start: int, values: np.ndarray) -> None:
        """Overwrite rows ``[start, start + len(values))``."""
        with open(self.path, "r+b") as f:
            f.seek(start * self.dtype.itemsize)
            np.ascontiguousarray(values, dtype=self.dtype).tofile(f)

    def search(self, value: int) -> int:
        """``np.searchsorted`` of a sorted column (a binary search: touches a few pages only)."""
        if self.length == 0:
            return 0
        mapped = np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.length,))
        found = int(np.searchsorted(mapped, value))
        del mapped
        return found

    def unlink(self) -> None:
        """Delete the file."""
        self.path.unlink(missing_ok=True)


Blocks = Callable[[], Iterator[tuple[int, np.ndarray]]]
"""A re-iterable stream of ``(start, block)``: consecutive blocks covering rows ``0 .. length``."""


def lookup(table: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``np.searchsorted(table, queries)``, with the queries sorted first (random probes into a
    big table miss the cache; sorted ones walk it in order: about 4x faster here).

    Example:
        >>> lookup(np.array([2, 5, 9]), np.array([9, 2, 5, 5])).tolist()
        [2, 0, 1, 1]
    """
    order = np.argsort(queries)
    found = np.empty(len(queries), dtype=np.int64)
    found[order] = np.searchsorted(table, queries[order])
    return found


def gather(values: Column | np.ndarray, index: Blocks, length: int, path: Path, budget: Budget) -> Column:
    """``out[i] = values[index[i]]`` for the ``length`` rows of the index stream, written to ``path``."""
    dtype = values.dtype
    piece = budget.piece_rows(dtype.itemsize)
    if isinstance(values, np.ndarray) or len(values) <= piece:
        whole = values if isinstance(values, np.ndarray) else values.load()
        return Column.create(path, dtype, (whole[idx] for _, idx in index()))
    out = Column.full(path, dtype, length, 0, budget.block_rows(1 << 20))
    for low in range(0, len(values), piece):
        part = values.read(low, low + piece)
        high = low + len(part)
        for start, idx in index():
            inside = (idx >= low) & (idx < high)
            if inside.any():
                block = out.read(start, start + len(idx))
                block[inside] = part[idx[inside] - low]
                out.write_at(start, block)
    return out


def count_into(
    index: Callable[[], Iterator[np.ndarray]], length: int, dtype: np.dtype | type, path: Path, budget: Budget
) -> Column:
    """``out[j]`` = how often ``j`` occurs in the index stream, for ``0 <= j < length`` (as ``dtype``)."""
    piece = budget.piece_rows(8)

    def pieces() -> Iterator[np.ndarray]:
        for low in range(0, length, piece):
            high = min(low + piece, length)
            total = np.zeros(high - low, dtype=np.int64)
            for idx in index():
                if low > 0 or high < length:
                    idx = idx[(idx >= low) & (idx < high)]
                if len(idx):
                    seen = np.bincount(idx - low if low else idx)
                    total[: len(seen)] += seen
            yield total

    return Column.create(path, dtype, pieces())


def lookup_rows(keys: Column, queries: Blocks, length: int, dtype: np.dtype | type, path: Path, budget: Budget) -> Column:
    """The row of the sorted ``keys`` holding each query (every query must be in ``keys``)."""
    piece = budget.piece_rows(keys.dtype.itemsize)
    if len(keys) <= piece:
        table = keys.load()
        return Column.create(path, dtype, (lookup(table, q) for _, q in queries()))
    out = Column.full(path, dtype, length, 0, budget.block_rows(1 << 20))
    for low in range(0, len(keys), piece):
        table = keys.read(low, low + piece)
        first, last = table[0], table[-1]
        for start, q in queries():
            inside = (q >= first) & (q <= last)
            if inside.any():
                block = out.read(start, start + len(q))
                block[inside] = lookup(table, q[inside]) + low
                out.write_at(start, block)
    return out


def merge_runs(
    runs: list[tuple[Column, Column]],
    keys_path: Path,
    counts_path: Path,
    budget: Budget,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Column, Column]:
    """Merge sorted, duplicate-free runs of ``(keys, counts)`` into one, adding the counts of equal keys.

    Each round reads a block from every run, emits every key up to the smallest last key
    read (no run can hold a smaller one later), sorted and summed, and refills the blocks used up.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> run = lambda name, k, c: (Column.create(d / f"{name}k", np.int64, [np.array(k)]),
        ...                           Column.create(d / f"{name}c", np.int32, [np.array(c)]))
        >>> keys, counts = merge_runs([run("a", [1, 4, 9], [1, 1, 1]), run("b", [4, 5], [2, 3])],
        ...                           d / "k", d / "c", Budget(MIN_MEMORY))
        >>> keys.load().tolist(), counts.load().tolist()
        ([1, 4, 5, 9], [1, 3, 3, 1])
    """
    rows = budget.merge_rows(len(runs))
    total = sum(len(keys) for keys, _ in runs)
    count_type = runs[0][1].dtype
    position = [0] * len(runs)
    buffers: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0, count_type))] * len(runs)
    done = 0
    with open(keys_path, "wb") as keys_out, open(counts_path, "wb") as counts_out:
        written = 0
        while True:
            for r, (keys, counts) in enumerate(runs):
                if len(buffers[r][0]) == 0 and position[r] < len(keys):
                    a, b = position[r], min(position[r] + rows, len(keys))
                    buffers[r] = (keys.read(a, b), counts.read(a, b))
                    position[r] = b
            active = [r for r in range(len(runs)) if len(buffers[r][0])]
            if not active:
                break
            unread = [int(buffers[r][0][-1]) for r in active if position[r] < len(runs[r][0])]
            parts_k, parts_c = [], []
            for r in active:
                k, c = buffers[r]
                take = len(k) if not unread else int(np.searchsorted(k, min(unread), side="right"))
                parts_k.append(k[:take])
                parts_c.append(c[:take])
                buffers[r] = (k[take:], c[take:])
                done += take
            k = np.concatenate(parts_k)
            c = np.concatenate(parts_c)
            order = np.argsort(k, kind="stable")
            k, c = k[order], c[order]
            starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
            k[starts].tofile(keys_out)
            np.add.reduceat(c, starts).astype(count_type).tofile(counts_out)
            written += len(starts)
            if progress is not None:
                progress(done, total)
    return Column(keys_path, np.int64, written), Column(counts_path, count_type, written)
