"""Interpolated modified Kneser-Ney over the n-gram tables on disk, streamed (the estimation stage of
:func:`ctcdecode_kit.lm.build_arpa`).

:class:`Estimate` works order by order on the tables :func:`~ctcdecode_kit.lm.build_counts.count_ngrams`
wrote, reading them in blocks of :meth:`Budget.block_rows <ctcdecode_kit.lm.build_store.Budget.block_rows>`
rows; what it derives goes to files in the same folder. Only the vocabulary-sized unigram arrays
are held whole. Steps:

1. **Suffix rows** (top order down to 2): the row of table n-1 holding the last n-1 words of
   each n-gram, as a lookup of ``suffix_row(prefix) * V + last`` in table n-1
   (:func:`~ctcdecode_kit.lm.build_store.gather` then :func:`~ctcdecode_kit.lm.build_store.lookup_rows`).
2. **Adjusted counts**: raw counts at the top order and for n-grams starting with ``<s>``,
   otherwise continuation counts: how often each row is another n-gram's suffix
   (:func:`~ctcdecode_kit.lm.build_store.count_into`).
3. **Discounts** from each order's counts of counts, streamed.
4. **Pruning marks** (``prune_singletons``), top order down: kept rows and the rows they need
   as context or suffix.
5. **Probabilities and backoff weights**, order 1 up: the lower-order probability of each
   n-gram's suffix is gathered into a column, then the table is read in blocks that end where
   a context ends (:func:`context_blocks`), so every per-context sum (``c(h .)``, the discount
   mass, the pruned renormalisation) runs in one ``np.bincount`` pass in table order. The
   floating-point operations and their order are the same whatever the block sizes, so the
   output is byte-identical for every budget.

Example:
    >>> import tempfile
    >>> from ctcdecode_kit.lm.build_counts import count_ngrams, encode_corpus
    >>> folder = tempfile.mkdtemp()
    >>> corpus = encode_corpus(["a b", "a c", "a b"], None, False, folder)
    >>> tables = count_ngrams(corpus, 2, np.arange(6), folder)
    >>> est = Estimate(tables, 2, np.arange(6), lambda hist: (0.5, 1.0, 1.5), False, folder)
    >>> est.rows, est.probs[2].load().round(3).tolist()
    ([0, 6, 5], [0.6, 0.433, 0.267, 0.65, 0.65])
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .build_counts import BOS, UNK, NgramTables, Progress
from .build_store import Budget, Column, count_into, gather, lookup_rows

__all__ = ["BLOCK_ROWS", "Estimate", "context_blocks", "ngram_words"]

BLOCK_ROWS = 1 << 20
"""Most rows of one order estimated at a time (the budget may make blocks smaller; blocks end
where a context ends, so every per-context sum runs in one pass, in table order, whatever the size)."""


def _row_type(length: int) -> type:
    return np.int32 if length < 2**31 else np.int64


def context_blocks(keys: Column, size: int, rows: int) -> Iterator[tuple[int, int, np.ndarray, int, np.ndarray]]:
    """Blocks ``[a, b)`` of about ``rows`` rows of a sorted key column, each holding whole contexts:
    ``(a, b, keys, first, local)`` with the block's keys, its first context row and each row's
    context relative to it. A block is longer than ``rows`` only when one context is (at most V rows).

    Example:
        >>> import tempfile
        >>> column = Column.create(Path(tempfile.mkdtemp()) / "k", np.int64, [np.array([10, 11, 20, 21, 30])])
        >>> [(a, b, first, local.tolist()) for a, b, _, first, local in context_blocks(column, 10, 3)]
        [(0, 2, 1, [0, 0]), (2, 5, 2, [0, 0, 1])]
    """
    a, length = 0, len(keys)
    while a < length:
        b = a + rows
        if b < length:
            window = keys.read(a, b + 1)
            context = int(window[-1]) // size
            end = a + int(np.searchsorted(window, context * size))  # first row of the context holding row b
            if end > a:
                b = end
                block = window[: b - a]
            else:  # the whole window is one context: extend the block to its end
                b = keys.search((context + 1) * size)
                block = keys.read(a, b)
        else:
            b = length
            block = keys.read(a, b)
        prefix = block // size
        first = int(prefix[0])
        yield a, b, block, first, prefix - first
        a = b


def ngram_words(tables: NgramTables, n: int, keys: np.ndarray) -> list[np.ndarray]:
    """The word ranks of n-grams of order ``n`` given their (ascending) keys, one array per position.

    The prefixes of ascending keys ascend too, so each lower order is read as one window of rows.

    Example:
        >>> import tempfile
        >>> two = Column.create(Path(tempfile.mkdtemp()) / "k2", np.int64, [np.array([7, 13])])
        >>> tables = NgramTables(size=5, keys=[None, None, two], raw=[])
        >>> [w.tolist() for w in ngram_words(tables, 3, np.array([0 * 5 + 4, 1 * 5 + 0]))]
        [[1, 2], [2, 3], [4, 0]]
    """
    size = tables.size
    if len(keys) == 0:
        return [np.zeros(0, np.int64)] * n
    prefix = keys // size
    if n == 2:
        return [prefix, keys % size]
    low = int(prefix[0])
    parents = tables.keys[n - 1].read(low, int(prefix[-1]) + 1)[prefix - low]
    return ngram_words(tables, n - 1, parents) + [keys % size]


class Estimate:
    """Interpolated modified Kneser-Ney over counted tables, streamed (see the module docs).

    Construction does all the work; the raw-count, adjusted-count and suffix files are
    deleted as soon as they are used up.

    Attributes:
        rows: n-grams per order (``rows[1]`` = V, ``rows[0]`` = 0).
        discounts: ``(D1, D2, D3+)`` per order.
        probs: per order, every row's probability (``probs[1]``: an array by rank, NaN for
            ``<s>``; higher orders: float64 columns in table order).
        backoffs: per order below the top, every row's backoff weight, NaN when none is
            written (``backoffs[1]`` an array by rank, higher orders float64 columns).
        kept: per order, the rows written (None: all of them; ``kept[1]``: a bool array by
            rank, the words with a probability, ``<unk>`` and ``<s>``; higher orders: bool columns).
    """

    def __init__(
        self,
        tables: NgramTables,
        order: int,
        rank: np.ndarray,
        discounts_of: Callable[[np.ndarray], tuple[float, float, float]],
        prune: bool,
        folder: str | Path,
        budget: Budget | None = None,
        progress: Progress | None = None,
    ) -> None:
        """``discounts_of(hist)`` gives ``(D1, D2, D3+)`` from counts of counts ``hist`` (``hist[k]``:
        n-grams with adjusted count k, ``hist[5]``: 5 or more)."""
        budget = budget or Budget()
        self._folder = Path(folder)
        self._budget = budget
        self._block = budget.block_rows(BLOCK_ROWS)
        self._tables, self.order, self._size = tables, order, tables.size
        self.rows = [0, tables.size] + [len(tables.keys[n]) for n in range(2, order + 1)]
        self._progress = progress
        self._work = 3 * sum(self.rows[2:])
        self._done = 0
        suf = self._suffixes()
        counts = self._adjusted_counts(suf, int(rank[BOS]))
        self._present = counts[1] > 0
        self.discounts = tuple(discounts_of(self._counts_of_counts(counts, n)) for n in range(1, order + 1))
        self.kept = self._kept(counts, suf, int(rank[UNK]), int(rank[BOS]), prune)
        self.probs: list[np.ndarray | Column | None] = [None, self._unigram_probs(counts[1], int(rank[UNK]))]
        self.backoffs: list[np.ndarray | Column | None] = [None] * (order + 1)
        for n in range(2, order + 1):
            self.probs.append(self._order_probs(n, counts[n], suf[n]))

    def _advance(self, rows: int) -> None:
        self._done += rows
        if self._progress is not None:
            self._progress("estimating", self._done, self._work)

    def _path(self, name: str) -> Path:
        return self._folder / name

    def _suffixes(self) -> list[Column | None]:
        """``suf[n]``: per row of table n, the row of table n-1 holding its last n-1 words."""
        tables, size, block = self._tables, self._size, self._block
        suf: list[Column | None] = [None, None]
        for n in range(2, self.order + 1):
            keys = tables.keys[n]
            dtype = _row_type(self.rows[n - 1])
            if n == 2:
                suf.append(Column.create(self._path("suf2"), dtype, (k % size for _, k in keys.blocks(block))))
            else:
                heads = gather(suf[n - 1], lambda keys=keys: ((a, k // size) for a, k in keys.blocks(block)),
                               self.rows[n], self._path(f"head{n}"), self._budget)

                def queries(keys: Column = keys, heads: Column = heads) -> Iterator[tuple[int, np.ndarray]]:
                    for (a, k), (_, h) in zip(keys.blocks(block), heads.blocks(block)):
                        yield a, h.astype(np.int64) * size + k % size

                suf.append(lookup_rows(tables.keys[n - 1], queries, self.rows[n], dtype, self._path(f"suf{n}"),
                                       self._budget))
                heads.unlink()
            self._advance(self.rows[n])
        return suf

    def _adjusted_counts(self, suf: list[Column | None], bos: int) -> list[np.ndarray | Column | None]:
        """Raw counts at the top order and for ``<s>``-initial rows, continuation counts otherwise."""
        tables, size, block, order = self._tables, self._size, self._block, self.order
        count_type = tables.raw[order].dtype
        counts: list[np.ndarray | Column | None] = [None] * (order + 1)
        counts[order] = tables.raw[order]
        bos_rows = (bos, bos + 1)
        for n in range(2, order):  # the rows of each order that start with <s> are contiguous
            a, b = bos_rows
            bos_rows = (tables.keys[n].search(a * size), tables.keys[n].search(b * size))
            column = count_into(lambda s=suf[n + 1]: (x for _, x in s.blocks(block)), self.rows[n], count_type,
                                self._path(f"adjusted{n}"), self._budget)
            for x in range(bos_rows[0], bos_rows[1], block):
                column.write_at(x, tables.raw[n].read(x, min(bos_rows[1], x + block)))
            tables.raw[n].unlink()
            counts[n] = column
            self._advance(self.rows[n + 1])
        unigrams = np.zeros(size, dtype=np.int64)
        for _, s in suf[2].blocks(block):
            seen = np.bincount(s)
            unigrams[: len(seen)] += seen
        counts[1] = unigrams.astype(count_type)
        self._advance(self.rows[2])
        return counts

    def _counts_of_counts(self, counts: list[np.ndarray | Column | None], n: int) -> np.ndarray:
        if n == 1:
            return np.bincount(np.minimum(counts[1][self._present].astype(np.int64), 5), minlength=6)
        hist = np.zeros(6, dtype=np.int64)
        for _, c in counts[n].blocks(self._block):
            hist += np.bincount(np.minimum(c, 5), minlength=6)
        return hist

    def _kept(
        self, counts: list[np.ndarray | Column | None], suf: list[Column | None], unk: int, bos: int, prune: bool
    ) -> list[np.ndarray | Column | None]:
        """Rows kept by ``prune_singletons`` (count > 1, or needed as a kept row's context or suffix)."""
        tables, size, block = self._tables, self._size, self._block
        kept: list[np.ndarray | Column | None] = [None] * (self.order + 1)
        if prune:
            needed: Column | None = None
            for n in range(self.order, 1, -1):

                def keep_blocks(c: Column = counts[n], m: Column | None = needed) -> Iterator[np.ndarray]:
                    if m is None:
                        yield from ((x > 1) for _, x in c.blocks(block))
                    else:
                        yield from ((x > 1) | y for (_, x), (_, y) in zip(c.blocks(block), m.blocks(block)))

                kept[n] = Column.create(self._path(f"kept{n}"), np.bool_, keep_blocks())
                if needed is not None:
                    needed.unlink()
                    needed = None
                if n > 2:

                    def marks(n: int = n) -> Iterator[np.ndarray]:
                        for (_, k), (_, s), (_, keep) in zip(
                            tables.keys[n].blocks(block), suf[n].blocks(block), kept[n].blocks(block)
                        ):
                            yield np.concatenate([k[keep] // size, s[keep].astype(np.int64)])

                    needed = count_into(marks, self.rows[n - 1], np.bool_, self._path(f"needed{n - 1}"), self._budget)
        ranks = np.arange(size)
        kept[1] = self._present | (ranks == unk) | (ranks == bos)
        return kept

    def _unigram_probs(self, counts: np.ndarray, unk: int) -> np.ndarray:
        d1, d2, d3 = self.discounts[0]
        table = np.array([0.0, d1, d2, d3])
        c = counts[self._present]
        d = table[np.minimum(c, 3)]
        cf = c.astype(np.float64)
        total = float(cf.sum()) if len(cf) else 0.0
        mass = float(np.bincount(np.zeros(len(d), np.int64), weights=d, minlength=1)[0])
        uniform = (mass / total) / (self._size - 1)
        probs = np.full(self._size, np.nan)
        probs[self._present] = (cf - d) / total + uniform
        if not self._present[unk]:
            probs[unk] = uniform
        return probs

    def _order_probs(self, n: int, counts: Column, suf: Column) -> Column:
        """Probabilities of order n (a column); sets ``backoffs[n - 1]``; deletes ``counts`` and ``suf``."""
        block, budget = self._block, self._budget
        d1, d2, d3 = self.discounts[n - 1]
        table = np.array([0.0, d1, d2, d3])
        lower = gather(self.probs[n - 1], lambda: suf.blocks(block), self.rows[n], self._path(f"lower{n}"), budget)
        suf.unlink()
        keep_column = self.kept[n]
        contexts = self.rows[n - 1]
        in_memory = n == 2
        weights = np.full(contexts, np.nan) if in_memory else None
        cursor = 0
        with open(self._path(f"probs{n}"), "wb") as probs_out, (
            open(self._path(f"backoffs{n - 1}"), "wb") if not in_memory else contextlib.nullcontext()
        ) as back_out:
            for a, b, _, first, local in context_blocks(self._tables.keys[n], self._size, block):
                c = counts.read(a, b)
                cf = c.astype(np.float64)
                d = table[np.minimum(c, 3)]
                span = int(local[-1]) + 1
                total = np.bincount(local, weights=cf, minlength=span)
                mass = np.bincount(local, weights=d, minlength=span)
                with np.errstate(divide="ignore", invalid="ignore"):
                    g = mass / total
                is_context = total > 0
                low = lower.read(a, b)
                p = (cf - d) / total[local] + g[local] * low
                p.tofile(probs_out)
                weight = g
                weight[~is_context] = np.nan
                if keep_column is not None:
                    kept_rows = keep_column.read(a, b)
                    at = local[kept_rows]
                    p_high = np.bincount(at, weights=p[kept_rows], minlength=span)
                    p_low = np.bincount(at, weights=low[kept_rows], minlength=span)
                    n_kept = np.bincount(at, minlength=span)
                    full = np.bincount(local, minlength=span)
                    renormed = np.maximum(1.0 - p_high, 0.0) / np.maximum(1.0 - p_low, 1e-300)
                    w = np.where(n_kept == full, weight, renormed)
                    w = np.where(is_context & (n_kept == 0), 1.0, w)  # every extension pruned: back off fully
                    weight = np.where(is_context, w, np.nan)
                if in_memory:
                    weights[first : first + span] = weight
                else:
                    np.full(first - cursor, np.nan).tofile(back_out)  # rows that are no context
                    weight.tofile(back_out)
                cursor = first + span
                self._advance(b - a)
            if not in_memory:
                for x in range(cursor, contexts, block):
                    np.full(min(block, contexts - x), np.nan).tofile(back_out)
        lower.unlink()
        counts.unlink()
        self.backoffs[n - 1] = weights if in_memory else Column(self._path(f"backoffs{n - 1}"), np.float64, contexts)
        return Column(self._path(f"probs{n}"), np.float64, self.rows[n])

