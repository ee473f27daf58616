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
   next order. Memory: the tables (16 bytes per distinct n-gram while counting) plus one
   chunk; the corpus itself stays on disk.
4. **Estimation**, vectorised: the suffix of every n-gram is found with
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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctcdecode_kit.errors import InputError

__all__ = ["CHUNK_TOKENS", "Corpus", "NgramTables", "count_ngrams", "encode_corpus", "estimate"]

CHUNK_TOKENS = 1 << 22
"""Tokens per chunk of whole sentences (about 4 M: 16 MB of ids, 32 MB of keys)."""

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


def _merge(keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray):
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


def _window_keys(t: np.ndarray, prefix: np.ndarray, n: int, size: int, bos: int):
    """Keys of the n-grams starting at each position of a chunk, and where they are valid."""
    m = len(t) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(t), dtype=bool)
    head = prefix[:m]
    last = t[n - 1 :]
    valid = (head >= 0) & (last != bos)
    keys = head[valid] * size + last[valid]
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
    rank = rank.astype(np.int64)
    chunks = list(zip(corpus.bounds[:-1], corpus.bounds[1:]))
    keys: list[np.ndarray] = [np.zeros(0, np.int64), np.zeros(0, np.int64)]
    raw: list[np.ndarray] = [np.zeros(0, np.int64), np.zeros(0, np.int64)]
    previous: Path | None = None
    for n in range(2, order + 1):
        stage = f"counting {n}-grams"
        table = np.zeros(0, dtype=np.int64)
        counts = np.zeros(0, dtype=np.int64)
        for start, stop in chunks:
            t = rank[_read(corpus.path, start, stop, np.int32)]
            prefix = t if previous is None else _read(previous, start, stop, np.int64)
            chunk_keys, _ = _window_keys(t, prefix, n, size, bos)
            unique, seen = np.unique(chunk_keys, return_counts=True)
            table, counts = _merge(table, counts, unique, seen.astype(np.int64))
            if progress is not None:
                progress(stage, stop, corpus.tokens)
        keys.append(table)
        raw.append(counts)
        if n == order:
            break
        index_path = Path(folder) / f"index{n}.i64"
        with open(index_path, "wb") as out:
            for start, stop in chunks:
                t = rank[_read(corpus.path, start, stop, np.int32)]
                prefix = t if previous is None else _read(previous, start, stop, np.int64)
                chunk_keys, mask = _window_keys(t, prefix, n, size, bos)
                index = np.full(len(t), -1, dtype=np.int64)
                index[mask] = np.searchsorted(table, chunk_keys)
                index.tofile(out)
        if previous is not None:
            previous.unlink()
        previous = index_path
    if previous is not None:
        previous.unlink()
    return NgramTables(size=size, keys=keys, raw=raw)


@dataclass
class Estimate:
    """What the ARPA writer needs, per order ``n`` (index 0 unused).

    Attributes:
        probs: probability of every row of table ``n`` (for n = 1: of every rank; NaN
            where a word is not a unigram entry, i.e. ``<s>``, and ``<unk>`` when unseen
            gets the uniform share).
        backoffs: backoff weight of every row (NaN: the row is no context, no backoff written).
        kept: rows written (None: all of them; for n = 1 the rows with a probability plus ``<s>``).
        discounts: ``(D1, D2, D3+)`` per order.
    """

    probs: list[np.ndarray]
    backoffs: list[np.ndarray]
    kept: list[np.ndarray | None]
    discounts: tuple[tuple[float, float, float], ...]


def _suffixes(tables: NgramTables, order: int) -> list[np.ndarray]:
    """``suf[n][i]``: the row of table n-1 holding the last n-1 words of row i of table n."""
    size = tables.size
    suf: list[np.ndarray] = [np.zeros(0, np.int64)] * 2
    for n in range(2, order + 1):
        keys = tables.keys[n]
        last = keys % size
        if n == 2:
            suf.append(last)
        else:
            prefix = keys // size
            suffix_keys = suf[n - 1][prefix] * size + last
            suf.append(np.searchsorted(tables.keys[n - 1], suffix_keys))
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


def estimate(
    tables: NgramTables,
    order: int,
    rank: np.ndarray,
    discounts_of: Callable[[np.ndarray], tuple[float, float, float]],
    prune: bool,
) -> Estimate:
    """Interpolated modified Kneser-Ney probabilities and backoff weights, vectorised.

    ``discounts_of(counts)`` gives ``(D1, D2, D3+)`` from one order's adjusted counts.
    """
    size = tables.size
    unk, bos = int(rank[UNK]), int(rank[BOS])
    suf = _suffixes(tables, order)
    bos_rows = _bos_rows(tables, order, bos)
    # adjusted counts
    counts: list[np.ndarray] = [np.zeros(0, np.int64)] * (order + 1)
    counts[order] = tables.raw[order]
    for n in range(order - 1, 0, -1):
        rows = size if n == 1 else len(tables.keys[n])
        c = np.bincount(suf[n + 1], minlength=rows).astype(np.int64)
        if n >= 2:
            a, b = bos_rows[n]
            c[a:b] = tables.raw[n][a:b]
        counts[n] = c
    present = counts[1] > 0
    discounts = tuple(discounts_of(counts[n] if n > 1 else counts[1][present]) for n in range(1, order + 1))

    probs: list[np.ndarray] = [np.zeros(0)] * (order + 1)
    gammas: list[np.ndarray] = [np.zeros(0)] * (order + 1)  # gammas[n][h]: h a row of table n-1
    totals: list[np.ndarray] = [np.zeros(0)] * (order + 1)
    for n in range(1, order + 1):
        d1, d2, d3 = discounts[n - 1]
        table = np.array([0.0, d1, d2, d3])
        c = counts[n]
        if n == 1:
            c = c[present]
        d = table[np.minimum(c, 3)]
        cf = c.astype(np.float64)
        if n == 1:
            total = float(cf.sum()) if len(cf) else 0.0
            mass = float(np.bincount(np.zeros(len(d), np.int64), weights=d, minlength=1)[0])
            gamma = mass / total
            uniform = gamma / (size - 1)
            p = np.full(size, np.nan)
            p[present] = (cf - d) / total + uniform
            if not present[unk]:
                p[unk] = uniform
            probs[1] = p
            continue
        contexts = size if n == 2 else len(tables.keys[n - 1])
        prefix = tables.keys[n] // size
        total = np.bincount(prefix, weights=cf, minlength=contexts)
        mass = np.bincount(prefix, weights=d, minlength=contexts)
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = mass / total
        totals[n] = total
        gammas[n] = gamma
        probs[n] = (cf - d) / total[prefix] + gamma[prefix] * probs[n - 1][suf[n]]

    kept: list[np.ndarray | None] = [None] * (order + 1)
    if prune:
        needed = np.zeros(len(tables.keys[order]), dtype=bool)
        for n in range(order, 1, -1):
            keep = (counts[n] > 1) | needed
            kept[n] = keep
            below = size if n == 2 else len(tables.keys[n - 1])
            needed = np.zeros(below, dtype=bool)
            needed[tables.keys[n][keep] // size] = True
            needed[suf[n][keep]] = True

    backoffs: list[np.ndarray] = [np.zeros(0)] * (order + 1)
    for n in range(2, order + 1):
        is_context = totals[n] > 0
        weight = np.where(is_context, gammas[n], np.nan)
        keep = kept[n]
        if keep is not None:
            prefix = tables.keys[n] // size
            rows = len(is_context)
            p_high = np.bincount(prefix[keep], weights=probs[n][keep], minlength=rows)
            p_low = np.bincount(prefix[keep], weights=probs[n - 1][suf[n][keep]], minlength=rows)
            n_kept = np.bincount(prefix[keep], minlength=rows)
            full = np.bincount(prefix, minlength=rows)
            renormed = np.maximum(1.0 - p_high, 0.0) / np.maximum(1.0 - p_low, 1e-300)
            weight = np.where(n_kept == full, weight, renormed)
            weight = np.where(is_context & (n_kept == 0), 1.0, weight)
            weight = np.where(is_context, weight, np.nan)
        backoffs[n - 1] = weight
    backoffs[order] = np.full(len(tables.keys[order]), np.nan)
    kept[1] = present | (np.arange(size) == unk) | (np.arange(size) == bos)
    return Estimate(probs=probs, backoffs=backoffs, kept=kept, discounts=discounts)  # type: ignore[arg-type]


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
