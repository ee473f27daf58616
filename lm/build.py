"""Build an n-gram ARPA language model from text: interpolated modified Kneser-Ney.

:func:`build_arpa` follows Chen & Goodman's interpolated modified Kneser-Ney, the
estimate KenLM's ``lmplz`` makes:

* each sentence is ``<s> w1 ... wk </s>``; the highest order uses raw counts, lower
  orders use continuation counts (the number of distinct words seen before the
  n-gram), except n-grams starting with ``<s>``, which keep raw counts;
* three discounts per order, ``D1, D2, D3+``, from that order's counts of counts
  ``t1..t4``: ``Y = t1 / (t1 + 2 t2)``, ``Dk = k - (k + 1) Y t(k+1) / tk``; when the
  corpus is too small for them (a ``tk`` is 0 or a discount falls outside ``(0, k)``)
  ``discount_fallback`` is used, like ``lmplz --discount_fallback``;
* ``p(w | h) = (c(h w) - D(c)) / c(h .) + gamma(h) p(w | h')`` with
  ``gamma(h) = (D1 N1(h .) + D2 N2(h .) + D3 N3+(h .)) / c(h .)``; unigrams are
  interpolated with the uniform distribution over the vocabulary (``</s>`` and
  ``<unk>`` included, ``<s>`` excluded), so ``<unk>`` gets ``gamma / |V|``;
* written as a backoff ARPA file: the backoff weight of ``h`` is ``gamma(h)``, so for
  every history the probabilities over the vocabulary sum to 1.

``prune_singletons=True`` drops n-grams of order >= 2 whose count is 1 (their mass
moves to the backoff, whose weight is recomputed so each history still sums to 1),
keeping every n-gram that a kept longer n-gram needs as its context or suffix.

Text normalisation (all documented, nothing hidden): each line is one sentence, split
on whitespace; ``case="lower"``/``"upper"`` converts it; ``strip_punctuation=True``
turns every character that is not a letter, digit, apostrophe or whitespace into a
space and trims apostrophes at word edges. Blank lines are skipped. A literal ``<unk>``
counts as the unknown word; ``<s>`` and ``</s>`` inside the text are refused.

Output is deterministic (sorted n-grams, fixed number format). Memory and speed: the
text is read once and kept on disk as word ids; n-grams are counted order by order with
numpy, chunk by chunk, into sorted runs of packed int64 keys that are spilled to disk and
merged (:mod:`ctcdecode_kit.lm.build_counts`); the estimate is streamed from those tables on
disk in blocks (:mod:`ctcdecode_kit.lm.build_estimate`). ``memory`` (default 1 GiB) bounds
the arrays that grow with the corpus, whatever its size; a bigger corpus takes more disk
(at most about 60 bytes per n-gram, and 12 per corpus token while counting) and time, not more memory.
What does not follow the budget: the vocabulary (its words and a few arrays of V entries),
a single context's n-grams (at most V rows), and, only when a word holds a character below
the space (table order then differs from text order), each ARPA section, which is sorted
in memory. A 4.8 M-word corpus (order 4, 10.3 M n-grams) builds in about the time KenLM's
``lmplz`` takes, with a peak RSS near 0.25 GB at the default budget and 0.12 GB with
``memory="64M"`` (benchmarks/RESULTS.md). Temporary files go to the system temporary folder
(``TMPDIR``) and are removed at the end, also after an error. ``progress(stage, done,
total)`` is called as the stages (reading, counting each order, merging runs, estimating,
writing) advance.
On unpruned models the output equals KenLM's ``lmplz`` to 1e-6 (discounts included);
with ``prune_singletons`` the kept n-grams are the same as ``lmplz --prune 0 1 1`` but
their probabilities differ slightly (lmplz re-estimates after pruning, we renormalise
backoff weights).

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "tiny.arpa"
    >>> stats = build_arpa(["the cat sat", "the dog sat", "a cat ran"], out, order=2)
    >>> stats.counts, stats.vocabulary_size
    ((9, 10), 9)
    >>> out.read_text().splitlines()[:4]
    ['\\\\data\\\\', 'ngram 1=9', 'ngram 2=10', '']
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctcdecode_kit.errors import InputError

from . import build_counts
from .build_counts import BOS, NgramTables, Progress, count_ngrams, encode_corpus
from .build_estimate import Estimate, ngram_words
from .build_store import DEFAULT_MEMORY, Budget, parse_memory
from .casing import apply_case, check_case

__all__ = ["MAX_ORDER", "MIN_ORDER", "ArpaStats", "build_arpa", "normalize_line"]

MIN_ORDER = 2
"""Lowest order accepted: KenLM refuses unigram-only models."""
MAX_ORDER = 6
"""Highest order accepted: the ``kenlm`` Python package is built with KENLM_MAX_ORDER=6."""

_BOS = BOS
_PUNCTUATION = re.compile(r"[^\w\s']|_")
_IMPOSSIBLE = -99.0  # log10 "probability" of <s>, as every ARPA writer uses


def normalize_line(line: str, *, case: str | None = None, strip_punctuation: bool = False) -> list[str]:
    """The words of one line of text, normalised as :func:`build_arpa` does.

    Example:
        >>> normalize_line('He said: "Don\\'t go!"', case="lower", strip_punctuation=True)
        ['he', 'said', "don't", 'go']
    """
    if case is not None:
        line = apply_case(line, case)
    if strip_punctuation:
        line = _PUNCTUATION.sub(" ", line)
        return [w for w in (word.strip("'") for word in line.split()) if w]
    return line.split()


@dataclass(frozen=True, slots=True)
class ArpaStats:
    """What :func:`build_arpa` wrote.

    Attributes:
        path: the ARPA file.
        order: n-gram order.
        counts: number of n-grams written per order (``counts[0]`` = unigrams incl. ``<s>``, ``</s>``, ``<unk>``).
        sentences: non-blank lines used.
        words: running words (without ``<s>``/``</s>``).
        vocabulary_size: distinct words plus ``<s>``, ``</s>``, ``<unk>``.
        discounts: ``(D1, D2, D3+)`` per order.
        seconds: wall time.
    """

    path: Path
    order: int
    counts: tuple[int, ...]
    sentences: int
    words: int
    vocabulary_size: int
    discounts: tuple[tuple[float, float, float], ...]
    seconds: float


def _discounts(hist: np.ndarray, fallback: tuple[float, float, float]) -> tuple[float, float, float]:
    """``(D1, D2, D3+)`` from one order's counts of counts (``hist[k]``: n-grams with adjusted count k),
    or ``fallback`` when they cannot give them."""
    t1, t2, t3, t4 = (int(v) for v in hist[1:5])
    if min(t1, t2, t3, t4) == 0:
        return fallback
    y = t1 / (t1 + 2 * t2)
    d = (1 - 2 * y * t2 / t1, 2 - 3 * y * t3 / t2, 3 - 4 * y * t4 / t3)
    if not all(0 < dk < k for k, dk in enumerate(d, start=1)):
        return fallback
    return d


def _check_fallback(fallback: object) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in fallback)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(0 < d < k for k, d in enumerate(values, start=1)):
        raise InputError(
            f"discount_fallback must be three discounts (D1, D2, D3+) with 0 < Dk < k, got {fallback!r}"
        )
    return values  # type: ignore[return-value]


def build_arpa(
    text_lines: Iterable[str] | Path,
    output_path: str | Path,
    order: int = 3,
    *,
    prune_singletons: bool = False,
    case: str | None = None,
    strip_punctuation: bool = False,
    discount_fallback: tuple[float, float, float] = (0.5, 1.0, 1.5),
    progress: Progress | None = None,
    memory: int | str = DEFAULT_MEMORY,
) -> ArpaStats:
    """Estimate an interpolated modified Kneser-Ney n-gram model and write it as ARPA.

    Args:
        text_lines: sentences, one per string (any iterable: a list, a generator, an
            open file), or a :class:`pathlib.Path` to a UTF-8 text file with one
            sentence per line. A plain ``str`` is refused (it would be read letter by
            letter): wrap one sentence in a list, or pass a Path.
        output_path: the ARPA file to write (folders are created).
        order: n-gram order, 2..6 (the orders KenLM loads).
        prune_singletons: drop n-grams of order >= 2 seen once (see module docs).
        case: None (keep), ``"lower"`` or ``"upper"``: convert the text first.
        strip_punctuation: replace punctuation with spaces first (see :func:`normalize_line`).
        discount_fallback: ``(D1, D2, D3+)`` used for an order whose counts of counts
            cannot give discounts (tiny corpora).
        progress: None, or ``progress(stage, done, total)``, called as each stage
            advances: ``"reading text"`` (words; ``total`` is 0 until the end),
            ``"counting 2-grams"`` ... (tokens), ``"merging 2-grams"`` ... (n-grams; only
            when an order outgrew the budget and was counted in several sorted runs),
            ``"estimating"`` (n-gram rows, three passes), ``"writing ARPA"`` (n-grams).
        memory: the budget for the arrays that grow with the corpus, in bytes or as a string
            such as ``"1G"``, ``"500M"``, ``"64K"`` (binary units; default 1 GiB, at least
            64K). The interpreter, numpy and the vocabulary come on top. A smaller budget
            means more, smaller sorted runs and passes, the same output.

    Returns:
        :class:`ArpaStats` describing what was written.

    Raises:
        InputError: bad arguments, no words in the text, or sentence markers in it.
        MissingFileError: ``text_lines`` is a Path to no file.
        FileFormatError: that file is not UTF-8.
    """
    began = time.perf_counter()
    if isinstance(order, bool) or not isinstance(order, int) or not MIN_ORDER <= order <= MAX_ORDER:
        raise InputError(
            f"order must be an integer from {MIN_ORDER} to {MAX_ORDER} (KenLM loads bigram to 6-gram "
            f"models), got {order!r}"
        )
    check_case(case)
    if case == "auto":
        raise InputError("case must be None, 'lower' or 'upper' when building an LM, got 'auto'")
    fallback = _check_fallback(discount_fallback)
    if isinstance(text_lines, str):
        raise InputError(
            "text_lines is a single str; pass a list of sentences, an open file, or a pathlib.Path "
            f"to a text file (got {text_lines[:60]!r})"
        )
    if progress is not None and not callable(progress):
        raise InputError(f"progress must be a callable progress(stage, done, total) or None, got {progress!r}")
    budget = Budget(parse_memory(memory))
    if isinstance(text_lines, Path) and not text_lines.is_file():
        from ctcdecode_kit.errors import MissingFileError

        raise MissingFileError(f"text file {str(text_lines)!r} does not exist")
    chunk = budget.chunk_tokens(build_counts.CHUNK_TOKENS)
    with tempfile.TemporaryDirectory(prefix="ctcdecode_kit-build-") as folder:
        if isinstance(text_lines, Path):
            with open(text_lines, encoding="utf-8") as stream:
                try:
                    corpus = encode_corpus(stream, case, strip_punctuation, folder, progress, chunk)
                except UnicodeDecodeError as exc:
                    from ctcdecode_kit.errors import FileFormatError

                    raise FileFormatError(
                        f"text file {str(text_lines)!r} is not valid UTF-8 ({exc.reason} at byte {exc.start} "
                        f"of a block read); convert it to UTF-8 first"
                    ) from None
        else:
            corpus = encode_corpus(text_lines, case, strip_punctuation, folder, progress, chunk)
        if corpus.words == 0:
            raise InputError("text_lines holds no words (every line is blank); an LM needs some text")
        by_text = sorted(range(len(corpus.vocab)), key=corpus.vocab.__getitem__)
        vocab = [corpus.vocab[i] for i in by_text]
        rank = np.empty(len(vocab), dtype=np.int64)
        rank[by_text] = np.arange(len(vocab))
        tables = count_ngrams(corpus, order, rank, folder, progress, budget)
        corpus.path.unlink()
        est = Estimate(
            tables, order, rank, lambda hist: _discounts(hist, fallback), prune_singletons, folder, budget, progress
        )
        output = Path(output_path)
        output.parent.mkdir(parents=True, exist_ok=True)
        written = _write(output, vocab, int(rank[_BOS]), tables, est, order, progress)
    return ArpaStats(
        path=output,
        order=order,
        counts=written,
        sentences=corpus.sentences,
        words=corpus.words,
        vocabulary_size=len(vocab),
        discounts=est.discounts,
        seconds=time.perf_counter() - began,
    )


def _fmt(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".") if value != 0 else "0"


_POWERS = 10 ** np.arange(7, dtype=np.int64)


def _format_log10(x: np.ndarray) -> list[str]:
    """``_fmt(_log10_backoff(v))`` of every value (log10, -99 for v <= 0), vectorised.

    ``np.log10`` may differ from ``math.log10`` in the last bit; that can change a
    7-decimal rounding only within 1e-10 of a tie, and every value within 1e-10 of a tie
    (or near 0, where the sign shows as "-0") is redone with ``math.log10``. The text is
    therefore the same as formatting ``math.log10`` one value at a time.

    Example:
        >>> _format_log10(np.array([0.1, 0.0, 1.0, 0.5, 1 - 1e-12]))
        ['-1', '-99', '0', '-0.30103', '-0']
    """
    return _rows_text(_log10_chars(x))


def _log10_chars(x: np.ndarray) -> np.ndarray:
    """:func:`_format_log10` as a NUL-padded character matrix (see :func:`_number_chars`)."""
    positive = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(positive, np.log10(np.where(positive, x, 1.0)), _IMPOSSIBLE)
    return _number_chars(logs, lambda i: _fmt(_log10_backoff(float(x[i]))), near_zero=1e-6)


def _format_many(values: np.ndarray, redo: Callable[[int], str] | None = None, near_zero: float = 0.0) -> list[str]:
    """``_fmt`` of every value (see :func:`_number_chars`).

    Example:
        >>> _format_many(np.array([-1.25, 0.0, -1e-9, -99.0, 3.000000049, 2.5e-8, 120.5]))
        ['-1.25', '0', '-0', '-99', '3', '0', '120.5']
    """
    return _rows_text(_number_chars(values, redo, near_zero))


def _rows_text(chars: np.ndarray) -> list[str]:
    """The rows of a NUL-padded uint8 character matrix as strings, NULs removed."""
    ends = np.full((len(chars), 1), ord("\n"), dtype=np.uint8)
    joined = np.concatenate([chars, ends], axis=1).tobytes().translate(None, b"\0")
    return joined.decode("utf-8").split("\n")[:-1]


def _number_chars(values: np.ndarray, redo: Callable[[int], str] | None = None, near_zero: float = 0.0) -> np.ndarray:
    """``_fmt`` of every value as a (len, >= 12) uint8 matrix whose NULs are to be removed.

    Vectorised with integers where that is provably the same as ``_fmt`` (|v| < 1000 and
    v * 1e7 more than 1e-3 from a rounding tie); ``_fmt(v)`` (or ``redo(i)``, also for
    ``|v| <= near_zero``) for the rest. Layout: sign, three integer digits, point, seven
    decimals; a leading zero digit, a missing sign or point and trailing zero decimals are
    NUL, so removing the NULs leaves the text.
    """
    scaled = values * 1e7
    fraction = scaled - np.floor(scaled)
    exact = (np.abs(values) < 1000) & (np.abs(fraction - 0.5) > 1e-3) & (np.abs(values) > near_zero)
    if near_zero == 0.0:
        exact |= values == 0.0
    magnitude = np.abs(np.rint(np.where(exact, scaled, 0.0))).astype(np.int64)
    whole, part = np.divmod(magnitude, 10**7)
    zeros = np.zeros(len(values), dtype=np.int64)  # trailing zeros of the 7 decimals
    for k in range(1, 7):
        zeros += (part % _POWERS[k] == 0) & (part != 0)
    decimals = np.where(part == 0, 0, 7 - zeros)
    redone = {
        i: (_fmt(float(values[i])) if redo is None else redo(i)).encode("ascii")
        for i in np.flatnonzero(~exact).tolist()
    }
    width = max([12, *map(len, redone.values())])
    chars = np.zeros((len(values), width), dtype=np.uint8)
    chars[:, 0] = np.where(values < 0, ord("-"), 0)
    chars[:, 1] = np.where(whole >= 100, ord("0") + (whole // 100) % 10, 0)
    chars[:, 2] = np.where(whole >= 10, ord("0") + (whole // 10) % 10, 0)
    chars[:, 3] = ord("0") + whole % 10
    chars[:, 4] = np.where(decimals > 0, ord("."), 0)
    for d in range(7):
        chars[:, 5 + d] = np.where(decimals > d, ord("0") + (part // _POWERS[6 - d]) % 10, 0)
    for i, text in redone.items():
        chars[i] = 0
        chars[i, : len(text)] = np.frombuffer(text, dtype=np.uint8)
    return chars


def _log10_backoff(weight: float) -> float:
    return math.log10(weight) if weight > 0 else _IMPOSSIBLE


_WRITE_ROWS = 1 << 16  # rows formatted per batch while writing (a few MB of characters)
_CONTROL = re.compile(r"[\x00-\x1f]")


def _lines(
    vocab: np.ndarray, words: list[np.ndarray], values: np.ndarray, weights: np.ndarray | None
) -> tuple[list[str], list[str]]:
    """The ARPA lines of some n-grams (and their texts): word ranks per position, probabilities,
    backoff weights (NaN: none written; None at the top order)."""
    if len(words) == 1:
        texts = vocab[words[0]].tolist()
    else:
        texts = [" ".join(t) for t in zip(*(vocab[w].tolist() for w in words))]
    prob_text = _format_log10(values)
    if weights is not None:
        has = ~np.isnan(weights)  # NaN: the n-gram is no context, no backoff written
        tails = np.full(len(values), "", dtype=object)
        if has.any():
            tails[has] = ["\t" + b for b in _format_log10(weights[has])]
        lines = [f"{p}\t{t}{b}" for p, t, b in zip(prob_text, texts, tails.tolist())]
    else:
        lines = [f"{p}\t{t}" for p, t in zip(prob_text, texts)]
    return lines, texts


def _line_bytes(
    words_chars: np.ndarray, words: list[np.ndarray], values: np.ndarray, weights: np.ndarray | None
) -> bytes:
    """The ARPA lines of some n-grams as UTF-8, built as one character matrix.

    Each line is laid out in fixed columns padded with NUL (probability, tab, each word
    with a space between, tab and backoff, newline); deleting the NULs gives the text.
    ``words_chars`` holds each word's UTF-8 bytes, NUL-padded (no word contains a NUL).
    """
    size = len(values)
    column = lambda char: np.full((size, 1), ord(char), dtype=np.uint8)
    parts = [_log10_chars(values), column("\t")]
    for i, word in enumerate(words):
        if i:
            parts.append(column(" "))
        parts.append(words_chars[word])
    if weights is not None:
        has = ~np.isnan(weights)  # NaN: the n-gram is no context, no backoff written
        if has.any():
            digits = _log10_chars(weights[has])
            tail = np.zeros((size, 1 + digits.shape[1]), dtype=np.uint8)
            tail[has, 0] = ord("\t")
            tail[has, 1:] = digits
            parts.append(tail)
    parts.append(column("\n"))
    return np.concatenate(parts, axis=1).tobytes().translate(None, b"\0")


_MAX_WORD_BYTES = 100  # longer words: lines are built one by one (a matrix would be too wide)


def _batches(
    tables: NgramTables, est: Estimate, n: int, bos: int
) -> Iterator[tuple[list[np.ndarray], np.ndarray, np.ndarray | None]]:
    """The written n-grams of order n in table order, in batches of about ``_WRITE_ROWS`` rows:
    ``(words, probabilities, backoff weights or None)``, read from the estimate's columns."""
    if n == 1:
        every = np.flatnonzero(est.kept[1])
        for start in range(0, len(every), _WRITE_ROWS):
            rows = every[start : start + _WRITE_ROWS]
            values = est.probs[1][rows]
            values[rows == bos] = 0.0  # written as -99, like every ARPA writer does for <s>
            yield [rows], values, est.backoffs[1][rows]
        return
    probs, backoffs, kept = est.probs[n], est.backoffs[n], est.kept[n]
    for start in range(0, est.rows[n], _WRITE_ROWS):
        stop = start + _WRITE_ROWS
        keys, values = tables.keys[n].read(start, stop), probs.read(start, stop)
        weights = None if backoffs is None else backoffs.read(start, stop)
        if kept is not None:
            keep = kept.read(start, stop)
            keys, values = keys[keep], values[keep]
            weights = None if weights is None else weights[keep]
        if len(keys):
            yield ngram_words(tables, n, keys), values, weights


def _written(est: Estimate, n: int) -> int:
    """How many n-grams of order n are written."""
    kept = est.kept[n]
    if kept is None:
        return est.rows[n]
    if isinstance(kept, np.ndarray):
        return int(kept.sum())
    return sum(int(block.sum()) for _, block in kept.blocks(1 << 20))


def _write(
    output: Path,
    vocab: list[str],
    bos: int,
    tables: NgramTables,
    est: Estimate,
    order: int,
    progress: Progress | None,
) -> tuple[int, ...]:
    """Write the ARPA file; sections list n-grams sorted by their text, as ``sorted()`` orders strings.

    Streamed in batches from the estimate's columns, except when a word holds a character
    below the space: then table order is not text order and each section of order >= 2 is
    sorted in memory.
    """
    vocab_array = np.array(vocab, dtype=object)
    # Rank order equals text order unless a word holds a character below the space.
    by_rank = _CONTROL.search("".join(vocab)) is None
    encoded = [word.encode("utf-8") for word in vocab]
    longest = max(map(len, encoded))
    words_chars = None
    if by_rank and longest <= _MAX_WORD_BYTES:
        words_chars = np.array(encoded, dtype=f"S{longest}").view(np.uint8).reshape(len(vocab), longest)
    del encoded
    counts = tuple(_written(est, n) for n in range(1, order + 1))
    total = sum(counts)
    done = 0
    with open(output, "wb") as f:
        f.write(b"\\data\\\n")
        f.writelines(f"ngram {n}={count}\n".encode() for n, count in enumerate(counts, start=1))
        for n in range(1, order + 1):
            f.write(f"\n\\{n}-grams:\n".encode())
            if counts[n - 1] == 0:
                f.write(b"\n")
                continue
            if not by_rank and n > 1:
                lines: list[str] = []
                texts: list[str] = []
                for words, values, weights in _batches(tables, est, n, bos):
                    more_lines, more_texts = _lines(vocab_array, words, values, weights)
                    lines += more_lines
                    texts += more_texts
                ordered = sorted(range(len(lines)), key=texts.__getitem__)
                f.write("\n".join([lines[i] for i in ordered]).encode("utf-8"))
                f.write(b"\n")
                done += len(lines)
                if progress is not None:
                    progress("writing ARPA", done, total)
                continue
            for words, values, weights in _batches(tables, est, n, bos):
                if words_chars is not None:
                    f.write(_line_bytes(words_chars, words, values, weights))
                else:
                    lines, _ = _lines(vocab_array, words, values, weights)
                    f.write("\n".join(lines).encode("utf-8"))
                    f.write(b"\n")
                done += len(values)
                if progress is not None:
                    progress("writing ARPA", done, total)
        f.write(b"\n\\end\\\n")
    return counts
