"""What a decoder changed against the baseline: words fixed and broken, utterances helped
and hurt, the n-best oracle, and the error tables.

Words are counted per reference word through the jiwer alignments
(:mod:`ctcdecode_kit.report.alignment`): a reference word is *fixed* when the baseline
got it wrong (substituted or deleted) and the decoder got it right (a hit), *broken* the
other way round. Inserted words belong to no reference word and are counted in the error
tables only.

Example:
    >>> from ctcdecode_kit.report.alignment import align
    >>> base = align(["the cat sat", "a dog"], ["the hat sat", "a dog"])
    >>> other = align(["the cat sat", "a dog"], ["the cat sat", "a fog"])
    >>> w = word_changes(base, other)
    >>> (w.fixed, w.broken, dict(w.fixed_words), dict(w.broken_words))
    (1, 1, {'CAT': 1}, {'DOG': 1})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .alignment import Alignment, count_errors

__all__ = ["ErrorTables", "WordChanges", "error_tables", "extremes", "oracle_errors", "word_changes"]


@dataclass(frozen=True)
class WordChanges:
    """Reference words a decoder fixed and broke against the baseline, in total and by word."""

    fixed: int
    broken: int
    fixed_words: Counter
    broken_words: Counter


def word_changes(baseline: Alignment, decoder: Alignment) -> WordChanges:
    """Count reference words wrong in ``baseline`` and right in ``decoder`` (fixed), and the reverse (broken)."""
    fixed_words: Counter = Counter()
    broken_words: Counter = Counter()
    for ref, base_ok, ok in zip(decoder.refs, baseline.correct, decoder.correct):
        for i in np.flatnonzero(ok & ~base_ok):
            fixed_words[ref[i]] += 1
        for i in np.flatnonzero(base_ok & ~ok):
            broken_words[ref[i]] += 1
    return WordChanges(sum(fixed_words.values()), sum(broken_words.values()), fixed_words, broken_words)


def extremes(ids: Sequence[str], diff: np.ndarray, count: int = 5) -> tuple[list[str], list[str]]:
    """(helped, hurt): ids of the ``count`` utterances whose error difference to the baseline is most
    negative and most positive (only those that changed; ties kept in dataset order).

    Example:
        >>> extremes(["a", "b", "c"], np.array([-2, 0, 3]), 1)
        (['a'], ['c'])
    """
    order = np.argsort(diff, kind="stable")
    helped = [ids[i] for i in order[:count] if diff[i] < 0]
    hurt = [ids[i] for i in np.argsort(-diff, kind="stable")[:count] if diff[i] > 0]
    return helped, hurt


def oracle_errors(references: Sequence[str], nbest: Sequence[Sequence[str]]) -> np.ndarray:
    """Per utterance, the fewest word errors of any hypothesis in its n-best list (one jiwer call).

    An empty n-best list counts as one empty hypothesis.

    Example:
        >>> oracle_errors(["a b", "c"], [["a x", "a b"], ["d"]]).tolist()
        [0, 1]
    """
    pairs_ref, pairs_hyp, owner = [], [], []
    for i, (ref, texts) in enumerate(zip(references, nbest)):
        for text in dict.fromkeys(texts or [""]):  # each distinct hypothesis once
            pairs_ref.append(ref)
            pairs_hyp.append(text)
            owner.append(i)
    errors = count_errors(pairs_ref, pairs_hyp)
    best = np.full(len(references), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, np.array(owner, dtype=np.int64), errors)
    return best


@dataclass(frozen=True)
class ErrorTables:
    """The most frequent substitution pairs (ref, hyp), inserted words and deleted words of one decoder."""

    confusions: list[tuple[str, str, int]]
    insertions: list[tuple[str, int]]
    deletions: list[tuple[str, int]]


def error_tables(alignment: Alignment, top: int = 20) -> ErrorTables:
    """Count substitutions word by word (jiwer pairs a substituted span position by position), insertions
    and deletions; keep the ``top`` of each, most frequent first (ties alphabetical).

    Example:
        >>> from ctcdecode_kit.report.alignment import align
        >>> error_tables(align(["a b c"], ["a x c d"])).confusions
        [('B', 'X', 1)]
    """
    confusions: Counter = Counter()
    inserted: Counter = Counter()
    deleted: Counter = Counter()
    for ref, hyp, chunks in zip(alignment.refs, alignment.hyps, alignment.chunks):
        for op, r0, r1, h0, h1 in chunks:
            if op == "S":
                confusions.update(zip(ref[r0:r1], hyp[h0:h1]))
            elif op == "I":
                inserted.update(hyp[h0:h1])
            elif op == "D":
                deleted.update(ref[r0:r1])

    def ranked(counter: Counter) -> list:
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    return ErrorTables(
        [(r, h, n) for (r, h), n in ranked(confusions)],
        [(w, n) for w, n in ranked(inserted)],
        [(w, n) for w, n in ranked(deleted)],
    )
