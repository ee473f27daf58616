"""The reading and counting stages behind :func:`ctcdecode_kit.lm.build_arpa` (numpy, bounded memory).

How it works, and what it keeps in memory (the budget is :class:`~ctcdecode_kit.lm.build_store.Budget`):

1. **Reading.** The text is read once, line by line; each word gets an integer id on first
   sight and the ids (``<s> w1 ... wk </s>`` per sentence) go to a temporary file in
   chunks of whole sentences (about ``budget.chunk_tokens`` tokens each, at most
   :data:`CHUNK_TOKENS`). Memory: the word list and one chunk.
2. **Ranks.** Ids are replaced by the word's rank in the sorted vocabulary, so that sorting
   n-grams by their ranks sorts them as the ARPA file lists them.
3. **Counting, order by order (2..N).** An n-gram is stored as one int64 key,
   ``index of its first n-1 words in the (n-1)-gram table * V + rank of its last word``
   (every n-gram's prefix is itself a counted (n-1)-gram). For each chunk the keys of the
   n-grams inside sentences are sorted and counted with ``np.unique`` and merged into a
   sorted in-memory table; when that table holds more than ``budget.run_rows`` n-grams it
   is spilled to disk as a sorted run, and the runs are merged at the end of the order
   (:func:`~ctcdecode_kit.lm.build_store.merge_runs`). The merged table (keys and counts)
   stays on disk. A second pass writes, per corpus position, the table row of the n-gram
   starting there (a temporary file), which gives the prefix index of the next order; it
   looks the keys up in pieces of the table that fit the budget, one corpus pass per piece.
   Memory: one chunk, one run, one piece; the corpus stays on disk.
4. **Estimation** (:mod:`ctcdecode_kit.lm.build_estimate`), streamed over the on-disk tables.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> corpus = encode_corpus(["a b", "a c"], None, False, folder)
    >>> corpus.vocab, corpus.sentences, corpus.words
    (['<unk>', '<s>', '</s>', 'a', 'b', 'c'], 2, 4)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctcdecode_kit.errors import InputError

from .build_store import Budget, Column, lookup, merge_runs

__all__ = ["CHUNK_TOKENS", "Corpus", "NgramTables", "count_ngrams", "encode_corpus"]

CHUNK_TOKENS = 1 << 21
"""Tokens per chunk of whole sentences (about 2 M: 8 MB of ids, 16 MB of keys)."""

UNK, BOS, EOS = 0, 1, 2
MARKERS = ("<unk>", "<s>", "</s>")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; ``total`` is 0 while unknown (reading an iterator)."""


@dataclass(frozen=True)
class Corpus:
    """The token ids of a text, on disk.

    Attributes:
        path: int32 ids, sentence after sentence (``<s> ... </s>``).
        bounds: token offsets of the chunks: chunk ``i`` is ``[bounds[i], bounds[i + 1])``.
        vocab: the words by id (``<unk>``, ``<s>``, ``</s>`` first, then by first occurrence).
        sentences: sentences read (non-blank lines).
        words: running words.
    """

    path: Path
    bounds: tuple[int, ...]
    vocab: list[str]
    sentences: int
    words: int

    @property
    def tokens(self) -> int:
        """Tokens in the file, sentence markers included."""
        return self.bounds[-1]


def encode_corpus(
    text_lines: Iterable[str],
    case: str | None,
    strip_punctuation: bool,
    folder: str | Path,
    progress: Progress | None = None,
    chunk_tokens: int | None = None,
) -> Corpus:
    """Read sentences, give words ids, write the ids to ``folder/tokens.i32`` in chunks of whole sentences
    (of at least ``chunk_tokens`` tokens, default :data:`CHUNK_TOKENS`, except the last).

    Example:
        >>> import tempfile
        >>> encode_corpus(["x y", "", "y"], None, False, tempfile.mkdtemp()).bounds
        (0, 7)
    """
    from .build import normalize_line

    path = Path(folder) / "tokens.i32"
    chunk = CHUNK_TOKENS if chunk_tokens is None else chunk_tokens
    ids: dict[str, int] = {marker: i for i, marker in enumerate(MARKERS)}
    get = ids.get
    buffer: list[int] = []
    bounds = [0]
    sentences = words = 0
    with open(path, "wb") as out:
        for number, line in enumerate(text_lines, start=1):
            if not isinstance(line, str):
                raise InputError(f"text_lines must hold strings; line {number} is {type(line).__name__}")
            tokens = normalize_line(line, case=case, strip_punctuation=strip_punctuation)
            if not tokens:
                continue
            row = list(map(get, tokens))
            if None in row:
                for k, index in enumerate(row):
                    if index is None:
                        token = tokens[k]
                        index = get(token)
                        if index is None:
                            index = ids[token] = len(ids)
                        row[k] = index
            if BOS in row or EOS in row:
                marker = next(t for t in tokens if t in ("<s>", "</s>"))
                raise InputError(
                    f"text line {number} contains the sentence marker {marker!r}: {line.strip()[:80]!r}; "
                    f"give plain sentences, one per line (markers are added for you)"
                )
            buffer.append(BOS)
            buffer.extend(row)
            buffer.append(EOS)
            words += len(tokens)
            sentences += 1
            if len(buffer) >= chunk:
                np.asarray(buffer, dtype=np.int32).tofile(out)
                bounds.append(bounds[-1] + len(buffer))
                buffer.clear()
                if progress is not None:
                    progress("reading text", words, 0)
        if buffer:
            np.asarray(buffer, dtype=np.int32).tofile(out)
            bounds.append(bounds[-1] + len(buffer))
    if progress is not None:
        progress("reading text", words, words)
    vocab = sorted(ids, key=ids.__getitem__)
    return Corpus(path=path, bounds=tuple(bounds), vocab=vocab, sentences=sentences, words=words)


def _read(path: Path, start: int, stop: int, dtype: type) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    with open(path, "rb") as f:
        f.seek(start * itemsize)
        return np.fromfile(f, dtype=dtype, count=stop - start)


@dataclass
class NgramTables:
    """Distinct n-grams per order, as sorted int64 keys with raw counts, in files.

    ``keys[n]`` (n >= 2) is ``prefix * V + last`` where ``prefix`` indexes ``keys[n - 1]``
    (for n = 2: the rank of the first word) and ``last`` is the rank of the last word;
    ``raw[n]`` is how often each n-gram occurs inside a sentence. ``keys[0]``, ``keys[1]``
    are None (the unigram table is the vocabulary itself, in rank order).
    """

    size: int
    keys: list[Column | None]
    raw: list[Column | None]


def _merge(
    keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted, duplicate-free key arrays, adding the counts of equal keys."""
    if len(keys) == 0:
        return new_keys, new_counts
    pos = np.searchsorted(keys, new_keys)
    hit = pos < len(keys)
    hit[hit] = keys[pos[hit]] == new_keys[hit]
    counts[pos[hit]] += new_counts[hit]
    fresh = ~hit
    if fresh.any():
        keys = np.insert(keys, pos[fresh], new_keys[fresh])
        counts = np.insert(counts, pos[fresh], new_counts[fresh])
    return keys, counts


def _window_keys(t: np.ndarray, prefix: np.ndarray, n: int, size: int, bos: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys of the n-grams starting at each position of a chunk, and where they are valid."""
    m = len(t) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(t), dtype=bool)
    head = prefix[:m]
    last = t[n - 1 :]
    valid = (head >= 0) & (last != bos)
    keys = head[valid].astype(np.int64) * size + last[valid]
    mask = np.zeros(len(t), dtype=bool)
    mask[:m] = valid
    return keys, mask


def count_ngrams(
    corpus: Corpus,
    order: int,
    rank: np.ndarray,
    folder: str | Path,
    progress: Progress | None = None,
    budget: Budget | None = None,
) -> NgramTables:
    """Count every n-gram (2 <= n <= order) inside the corpus' sentences (see the module docs).

    ``rank[id]`` is the rank of word ``id`` in the sorted vocabulary. The tables are written
    to ``folder``; memory follows ``budget`` (sorted runs are spilled and merged when an
    order has more distinct n-grams than the budget holds).

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> corpus = encode_corpus(["a b", "a c"], None, False, folder)
        >>> rank = np.arange(len(corpus.vocab))
        >>> tables = count_ngrams(corpus, 2, rank, folder)
        >>> [(int(k) // 6, int(k) % 6, int(c)) for k, c in zip(tables.keys[2].load(), tables.raw[2].load())]
        [(1, 3, 2), (3, 4, 1), (3, 5, 1), (4, 2, 1), (5, 2, 1)]
    """
    budget = budget or Budget()
    folder = Path(folder)
    size = len(rank)
    bos = int(rank[BOS])
    rank = rank.astype(np.int32)
    count_type = np.int32 if corpus.tokens < 2**31 else np.int64
    chunks = list(zip(corpus.bounds[:-1], corpus.bounds[1:]))
    keys: list[Column | None] = [None, None]
    raw: list[Column | None] = [None, None]
    previous: Path | None = None
    index_type: type = np.int32

    def chunk_keys(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        t = rank[_read(corpus.path, start, stop, np.int32)]
        prefix = t if previous is None else _read(previous, start, stop, index_type)
        return _window_keys(t, prefix, n, size, bos)

    for n in range(2, order + 1):
        stage = f"counting {n}-grams"
        table = np.zeros(0, dtype=np.int64)
        counts = np.zeros(0, dtype=count_type)
        runs: list[tuple[Column, Column]] = []
        for start, stop in chunks:
            unique, seen = np.unique(chunk_keys(start, stop)[0], return_counts=True)
            table, counts = _merge(table, counts, unique, seen.astype(count_type))
            if len(table) > budget.run_rows:  # spill a sorted run
                name = f"run{n}-{len(runs)}"
                runs.append((Column.create(folder / f"{name}.keys", np.int64, [table]),
                             Column.create(folder / f"{name}.counts", count_type, [counts])))
                table, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=count_type)
            if progress is not None:
                progress(stage, stop, corpus.tokens)
        if runs:
            if len(table):
                name = f"run{n}-{len(runs)}"
                runs.append((Column.create(folder / f"{name}.keys", np.int64, [table]),
                             Column.create(folder / f"{name}.counts", count_type, [counts])))
            del table, counts
            report = None if progress is None else (lambda done, total, n=n: progress(f"merging {n}-grams", done, total))
            merged = merge_runs(runs, folder / f"keys{n}.i64", folder / f"raw{n}.bin", budget, report)
            for run in runs:
                for column in run:
                    column.unlink()
        else:
            merged = (Column.create(folder / f"keys{n}.i64", np.int64, [table]),
                      Column.create(folder / f"raw{n}.bin", count_type, [counts]))
            del table, counts
        keys.append(merged[0])
        raw.append(merged[1])
        if n == order:
            break
        # per corpus position, the row of the n-gram starting there: the next order's prefix
        index_path = folder / f"index{n}.bin"
        next_type = np.int32 if len(merged[0]) < 2**31 else np.int64
        piece = budget.piece_rows(8)
        whole = merged[0].load() if len(merged[0]) <= piece else None
        with open(index_path, "wb") as out:
            for start, stop in chunks:
                found, mask = chunk_keys(start, stop)
                index = np.full(stop - start, -1, dtype=next_type)
                if whole is not None:
                    index[mask] = lookup(whole, found)
                index.tofile(out)
        del whole
        if len(merged[0]) > piece:  # the table in pieces, each looked up by a pass over the corpus
            index_column = Column(index_path, next_type, corpus.tokens)
            for low in range(0, len(merged[0]), piece):
                part = merged[0].read(low, low + piece)
                for start, stop in chunks:
                    found, mask = chunk_keys(start, stop)
                    inside = (found >= part[0]) & (found <= part[-1])
                    if inside.any():
                        index = index_column.read(start, stop)
                        where = np.flatnonzero(mask)[inside]
                        index[where] = lookup(part, found[inside]) + low
                        index_column.write_at(start, index)
        if previous is not None:
            previous.unlink()
        previous, index_type = index_path, next_type
    if previous is not None:
        previous.unlink()
    return NgramTables(size=size, keys=keys, raw=raw)
