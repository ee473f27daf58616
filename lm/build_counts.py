"""The counting and estimation engine behind :func:`ctcdecode_kit.lm.build_arpa` (numpy, streaming).

How it works, and what it keeps in memory:

1. **Reading.** The text is read once, line by line; each word gets an integer id on first
   sight and the ids (``<s> w1 ... wk </s>`` per sentence) go to a temporary file in
   chunks of whole sentences (:data:`CHUNK_TOKENS` tokens each). Memory: the word list and
   one chunk.
2. **Ranks.** Ids are replaced by the word's rank in the sorted vocabulary, so that sorting
   n-grams by their ranks sorts them as the ARPA file lists them.
3. **Counting, order by order (2..N).** An n-gram is stored as one int64 key,
   ``index of its first n-1 words in the (n-1)-gram table * V + rank of its last word``
   (every n-gram's prefix is itself a counted (n-1)-gram). For each chunk the keys of the
   n-grams inside sentences are sorted and counted with ``np.unique`` and merged into the
   sorted table of that order; a second pass writes, per corpus position, the table index
   of the n-gram starting there (a temporary file), which gives the prefix index of the
   next order. Memory: the tables (12 bytes per distinct n-gram while counting) plus one
   chunk; the corpus itself stays on disk.
4. **Estimation**, vectorised, one order at a time (:class:`Estimate`): the suffix of every n-gram is found with
   ``np.searchsorted``; continuation counts are ``np.bincount`` of suffixes; context totals,
   ``N1/N2/N3+`` and the interpolation weights are ``np.bincount`` over prefixes (a context's
   n-grams are contiguous in the sorted table); probabilities follow the same floating-point
   operations, in the same order, as the reference formulas in :mod:`ctcdecode_kit.lm.build`.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> corpus = encode_corpus(["a b", "a c"], None, False, folder)
    >>> corpus.vocab, corpus.sentences, corpus.words
    (['<unk>', '<s>', '</s>', 'a', 'b', 'c'], 2, 4)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctcdecode_kit.errors import InputError

__all__ = ["CHUNK_TOKENS", "Corpus", "Estimate", "NgramTables", "count_ngrams", "encode_corpus", "lookup", "ngram_words"]

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
) -> Corpus:
    """Read sentences, give words ids, write the ids to ``folder/tokens.i32`` in chunks of whole sentences.

    Example:
        >>> import tempfile
        >>> encode_corpus(["x y", "", "y"], None, False, tempfile.mkdtemp()).bounds
        (0, 7)
    """
    from .build import normalize_line

    path = Path(folder) / "tokens.i32"
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
            if len(buffer) >= CHUNK_TOKENS:
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
    """Distinct n-grams per order, as sorted int64 keys, with raw counts.

    ``keys[n]`` (n >= 2) is ``prefix * V + last`` where ``prefix`` indexes ``keys[n - 1]``
    (for n = 2: the rank of the first word) and ``last`` is the rank of the last word;
    ``raw[n]`` is how often each n-gram occurs inside a sentence. ``keys[0]``, ``keys[1]``
    are unused (the unigram table is the vocabulary itself, in rank order).
    """

    size: int
    keys: list[np.ndarray]
    raw: list[np.ndarray]


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
    corpus: Corpus, order: int, rank: np.ndarray, folder: str | Path, progress: Progress | None = None
) -> NgramTables:
    """Count every n-gram (2 <= n <= order) inside the corpus' sentences (see the module docs).

    ``rank[id]`` is the rank of word ``id`` in the sorted vocabulary.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> corpus = encode_corpus(["a b", "a c"], None, False, folder)
        >>> rank = np.arange(len(corpus.vocab))
        >>> tables = count_ngrams(corpus, 2, rank, folder)
        >>> [(int(k) // 6, int(k) % 6, int(c)) for k, c in zip(tables.keys[2], tables.raw[2])]
        [(1, 3, 2), (3, 4, 1), (3, 5, 1), (4, 2, 1), (5, 2, 1)]
    """
    size = len(rank)
    bos = int(rank[BOS])
    rank = rank.astype(np.int32)
    count_type = np.int32 if corpus.tokens < 2**31 else np.int64
    chunks = list(zip(corpus.bounds[:-1], corpus.bounds[1:]))
    keys: list[np.ndarray] = [np.zeros(0, np.int64), np.zeros(0, np.int64)]
    raw: list[np.ndarray] = [np.zeros(0, np.int64), np.zeros(0, np.int64)]
    previous: Path | None = None
    index_type: type = np.int32
    for n in range(2, order + 1):
        stage = f"counting {n}-grams"
        table = np.zeros(0, dtype=np.int64)
        counts = np.zeros(0, dtype=count_type)
        for start, stop in chunks:
            t = rank[_read(corpus.path, start, stop, np.int32)]
            prefix = t if previous is None else _read(previous, start, stop, index_type)
            chunk_keys, _ = _window_keys(t, prefix, n, size, bos)
            unique, seen = np.unique(chunk_keys, return_counts=True)
            table, counts = _merge(table, counts, unique, seen.astype(count_type))
            if progress is not None:
                progress(stage, stop, corpus.tokens)
        keys.append(table)
        raw.append(counts)
        if n == order:
            break
        index_path = Path(folder) / f"index{n}.bin"
        next_type = np.int32 if len(table) < 2**31 else np.int64
        with open(index_path, "wb") as out:
            for start, stop in chunks:
                t = rank[_read(corpus.path, start, stop, np.int32)]
                prefix = t if previous is None else _read(previous, start, stop, index_type)
                chunk_keys, mask = _window_keys(t, prefix, n, size, bos)
                index = np.full(len(t), -1, dtype=next_type)
                index[mask] = lookup(table, chunk_keys)
                index.tofile(out)
        if previous is not None:
            previous.unlink()
        previous, index_type = index_path, next_type
    if previous is not None:
        previous.unlink()
    return NgramTables(size=size, keys=keys, raw=raw)


def _suffixes(tables: NgramTables, order: int) -> list[np.ndarray]:
    """``suf[n][i]``: the row of table n-1 holding the last n-1 words of row i of table n."""
    size = tables.size
    suf: list[np.ndarray] = [np.zeros(0, np.int64)] * 2
    for n in range(2, order + 1):
        keys = tables.keys[n]
        small = len(tables.keys[n - 1]) < 2**31 and size < 2**31
        if n == 2:
            last = keys % size
            suf.append(last.astype(np.int32) if small else last)
            continue
        found = np.empty(len(keys), dtype=np.int32 if small else np.int64)
        for a in range(0, len(keys), BLOCK_ROWS):  # in blocks: the temporaries stay small
            block = keys[a : a + BLOCK_ROWS]
            found[a : a + len(block)] = lookup(
                tables.keys[n - 1], suf[n - 1][block // size].astype(np.int64) * size + block % size
            )
        suf.append(found)
    return suf


def _bos_rows(tables: NgramTables, order: int, bos: int) -> list[tuple[int, int]]:
    """Per order, the contiguous rows ``[a, b)`` of the n-grams that start with ``<s>``."""
    rows = [(0, 0), (bos, bos + 1)]
    for n in range(2, order + 1):
        a, b = rows[-1]
        keys = tables.keys[n]
        size = tables.size
        rows.append((int(np.searchsorted(keys, a * size)), int(np.searchsorted(keys, b * size))))
    return rows


BLOCK_ROWS = 1 << 20
"""Rows of one order estimated at a time (blocks end where a context ends, so every
per-context sum runs in one pass, in table order, whatever the block size)."""


def _context_blocks(keys: np.ndarray, size: int) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """Blocks ``[a, b)`` of about :data:`BLOCK_ROWS` rows of a sorted key table, each holding
    whole contexts, with the first context row and each row's context relative to it.

    Example:
        >>> [(a, b, first, local.tolist()) for a, b, first, local in _context_blocks(np.array([10, 11, 20]), 10)]
        [(0, 3, 1, [0, 0, 1])]
    """
    a = 0
    while a < len(keys):
        b = a + BLOCK_ROWS
        if b < len(keys):
            context = int(keys[b]) // size
            end = int(np.searchsorted(keys, context * size))
            b = end if end > a else int(np.searchsorted(keys, (context + 1) * size))
        else:
            b = len(keys)
        prefix = keys[a:b] // size
        first = int(prefix[0])
        yield a, b, first, prefix - first
        a = b


class Estimate:
    """Interpolated modified Kneser-Ney over counted tables, vectorised, one order at a time.

    Construction computes what every order needs (adjusted counts, suffix rows, discounts,
    the rows kept by pruning) and drops the raw counts; :meth:`sections` then yields the
    probabilities and backoff weights order by order, holding at most two orders' floats.

    Attributes:
        discounts: ``(D1, D2, D3+)`` per order.
        kept: per order, the rows written (None: all of them; for n = 1, indexed by rank:
            the words with a probability, ``<unk>`` and ``<s>``).
    """

    def __init__(
        self,
        tables: NgramTables,
        order: int,
        rank: np.ndarray,
        discounts_of: Callable[[np.ndarray], tuple[float, float, float]],
        prune: bool,
    ) -> None:
        size = tables.size
        self._tables, self._order, self._size = tables, order, size
        self._unk = int(rank[UNK])
        bos = int(rank[BOS])
        self._suf = suf = _suffixes(tables, order)
        bos_rows = _bos_rows(tables, order, bos)
        # adjusted counts: raw at the top order and for <s>-initial n-grams, continuation counts otherwise
        counts: list[np.ndarray] = [np.zeros(0, np.int64)] * (order + 1)
        counts[order] = tables.raw[order]
        for n in range(order - 1, 0, -1):
            c = np.bincount(suf[n + 1], minlength=self._rows(n)).astype(tables.raw[order].dtype)
            if n >= 2:
                a, b = bos_rows[n]
                c[a:b] = tables.raw[n][a:b]
            counts[n] = c
        tables.raw = []  # no longer needed
        self._counts = counts
        self._present = counts[1] > 0
        self.discounts = tuple(
            discounts_of(counts[n] if n > 1 else counts[1][self._present]) for n in range(1, order + 1)
        )
        kept: list[np.ndarray | None] = [None] * (order + 1)
        if prune:
            needed = np.zeros(len(tables.keys[order]), dtype=bool)
            for n in range(order, 1, -1):
                keep = (counts[n] > 1) | needed
                kept[n] = keep
                needed = np.zeros(self._rows(n - 1), dtype=bool)
                needed[tables.keys[n][keep] // size] = True
                needed[suf[n][keep]] = True
        ranks = np.arange(size)
        kept[1] = self._present | (ranks == self._unk) | (ranks == bos)
        self.kept = kept

    def _rows(self, n: int) -> int:
        return self._size if n == 1 else len(self._tables.keys[n])

    def _probabilities(
        self, n: int, lower: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(probs, gamma, is_context)`` of order n; gamma and is_context index rows of table n-1."""
        d1, d2, d3 = self.discounts[n - 1]
        table = np.array([0.0, d1, d2, d3])
        c = self._counts[n]
        if n == 1:
            c = c[self._present]
        d = table[np.minimum(c, 3)]
        cf = c.astype(np.float64)
        if n == 1:
            total = float(cf.sum()) if len(cf) else 0.0
            mass = float(np.bincount(np.zeros(len(d), np.int64), weights=d, minlength=1)[0])
            uniform = (mass / total) / (self._size - 1)
            probs = np.full(self._size, np.nan)
            probs[self._present] = (cf - d) / total + uniform
            if not self._present[self._unk]:
                probs[self._unk] = uniform
            return probs, None, None
        keys, suf, size = self._tables.keys[n], self._suf[n], self._size
        contexts = self._rows(n - 1)
        probs = np.empty(len(keys))
        gamma = np.full(contexts, np.nan)
        is_context = np.zeros(contexts, dtype=bool)
        for a, b, first, local in _context_blocks(keys, size):
            c = self._counts[n][a:b]
            cf = c.astype(np.float64)
            d = table[np.minimum(c, 3)]
            span = int(local[-1]) + 1
            total = np.bincount(local, weights=cf, minlength=span)
            mass = np.bincount(local, weights=d, minlength=span)
            with np.errstate(divide="ignore", invalid="ignore"):
                g = mass / total
            gamma[first : first + span] = g
            is_context[first : first + span] = total > 0
            probs[a:b] = (cf - d) / total[local] + g[local] * lower[suf[a:b]]
        return probs, gamma, is_context

    def _backoffs(
        self, n: int, probs: np.ndarray, gamma: np.ndarray, is_context: np.ndarray, lower: np.ndarray
    ) -> np.ndarray:
        """Backoff weights of the rows of table n-1 (NaN: no context, nothing written); reuses ``gamma``."""
        weight = gamma
        weight[~is_context] = np.nan
        keep = self.kept[n]
        if keep is None:
            return weight
        suf = self._suf[n]
        for a, b, first, local in _context_blocks(self._tables.keys[n], self._size):
            span = int(local[-1]) + 1
            kept_rows = keep[a:b]
            at = local[kept_rows]
            p_high = np.bincount(at, weights=probs[a:b][kept_rows], minlength=span)
            p_low = np.bincount(at, weights=lower[suf[a:b][kept_rows]], minlength=span)
            n_kept = np.bincount(at, minlength=span)
            full = np.bincount(local, minlength=span)
            renormed = np.maximum(1.0 - p_high, 0.0) / np.maximum(1.0 - p_low, 1e-300)
            context = is_context[first : first + span]
            w = np.where(n_kept == full, weight[first : first + span], renormed)
            w = np.where(context & (n_kept == 0), 1.0, w)  # every extension pruned: back off fully
            weight[first : first + span] = np.where(context, w, np.nan)
        return weight

    def sections(self) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
        """``(n, probs, backoffs)`` for n = 1..order: every row's probability (for n = 1 by
        rank, NaN for ``<s>``) and backoff weight (NaN: none; None at the top order).

        One pass only: the counts and suffix rows of an order are released once used.
        """
        probs, _, _ = self._probabilities(1, None)
        for n in range(1, self._order + 1):
            if n == self._order:
                yield n, probs, None
                return
            higher, gamma, is_context = self._probabilities(n + 1, probs)
            backoffs = self._backoffs(n + 1, higher, gamma, is_context, probs)
            self._counts[n + 1] = self._suf[n + 1] = np.zeros(0, np.int64)  # used up
            del gamma, is_context
            yield n, probs, backoffs
            probs = higher


def ngram_words(tables: NgramTables, n: int, rows: np.ndarray) -> list[np.ndarray]:
    """The word ranks of the given rows of table ``n``, one array per position.

    Example:
        >>> tables = NgramTables(size=5, keys=[None, None, np.array([7, 13])], raw=[])
        >>> [w.tolist() for w in ngram_words(tables, 2, np.array([0, 1]))]
        [[1, 2], [2, 3]]
    """
    if n == 1:
        return [rows]
    keys = tables.keys[n][rows]
    return ngram_words(tables, n - 1, keys // tables.size) + [keys % tables.size]
