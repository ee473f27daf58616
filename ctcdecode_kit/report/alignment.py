"""Per-utterance word and character alignments of one decoder, through jiwer.

Every error count of the report comes from here: :func:`align` runs jiwer's
``process_words`` and ``process_characters`` once over a decoder's whole output (texts
normalised with :func:`ctcdecode_kit.metrics.normalize_text`, as :func:`~ctcdecode_kit.metrics.score`
does), and keeps each utterance's alignment chunks, its counts and which reference words
it got right. Summed over the utterances, the counts equal ``score()``'s corpus counts.

Example:
    >>> a = align(["the cat sat"], ["the hat sat down"])
    >>> a.errors.tolist(), a.ref_words.tolist(), a.chunks[0][1]
    ([2], [3], ('S', 1, 2, 1, 2))
    >>> a.correct[0].tolist()
    [True, False, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..metrics import normalize_text

__all__ = ["OPS", "Alignment", "align", "count_errors"]

OPS = {"equal": "=", "substitute": "S", "delete": "D", "insert": "I"}
"""jiwer's chunk types and the one-letter codes the report uses for them."""

Chunk = tuple[str, int, int, int, int]
"""(op, ref_start, ref_end, hyp_start, hyp_end), op one of ``= S D I``."""


@dataclass(frozen=True)
class Alignment:
    """One decoder's alignment to the references, utterance by utterance.

    Attributes:
        refs / hyps: the normalised word lists.
        chunks: jiwer's alignment chunks per utterance, as :data:`Chunk` tuples.
        substitutions, deletions, insertions, hits, ref_words, errors: per-utterance word counts (int arrays).
        char_errors, ref_chars: per-utterance character counts (spaces between words included, as jiwer counts them).
        correct: per utterance, a bool array over the reference words: True where the word is a hit.
    """

    refs: list[list[str]]
    hyps: list[list[str]]
    chunks: list[list[Chunk]]
    substitutions: np.ndarray
    deletions: np.ndarray
    insertions: np.ndarray
    hits: np.ndarray
    ref_words: np.ndarray
    char_errors: np.ndarray
    ref_chars: np.ndarray
    correct: list[np.ndarray]

    @property
    def errors(self) -> np.ndarray:
        """Word errors per utterance (S + D + I)."""
        return self.substitutions + self.deletions + self.insertions

    def utterance_wer(self) -> np.ndarray:
        """Per-utterance WER; an utterance without reference words counts its errors (0 or more) as its rate."""
        return self.errors / np.maximum(self.ref_words, 1)


def _normalise(texts: Sequence[str], normalize: bool) -> list[str]:
    return [normalize_text(t) if normalize else " ".join(t.split()) for t in texts]


def align(references: Sequence[str], hypotheses: Sequence[str], *, normalize: bool = True) -> Alignment:
    """Align each hypothesis to its reference with jiwer (words and characters).

    Example:
        >>> align(["a b"], [""]).deletions.tolist()
        [2]
    """
    import jiwer

    refs, hyps = _normalise(references, normalize), _normalise(hypotheses, normalize)
    words = jiwer.process_words(refs, hyps)
    chars = jiwer.process_characters(refs, hyps)
    n = len(refs)
    counts = {k: np.zeros(n, dtype=np.int64) for k in ("S", "D", "I", "=")}
    chunks: list[list[Chunk]] = []
    correct: list[np.ndarray] = []
    for i, row in enumerate(words.alignments):
        mine: list[Chunk] = []
        hit = np.zeros(len(words.references[i]), dtype=bool)
        for c in row:
            op = OPS[c.type]
            mine.append((op, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx))
            counts[op][i] += (c.hyp_end_idx - c.hyp_start_idx) if op == "I" else (c.ref_end_idx - c.ref_start_idx)
            if op == "=":
                hit[c.ref_start_idx : c.ref_end_idx] = True
        chunks.append(mine)
        correct.append(hit)
    char_errors = np.array([_chunk_errors(row) for row in chars.alignments], dtype=np.int64)
    return Alignment(
        refs=[list(r) for r in words.references],
        hyps=[list(h) for h in words.hypotheses],
        chunks=chunks,
        substitutions=counts["S"],
        deletions=counts["D"],
        insertions=counts["I"],
        hits=counts["="],
        ref_words=np.array([len(r) for r in words.references], dtype=np.int64),
        char_errors=char_errors,
        ref_chars=np.array([len(r) for r in refs], dtype=np.int64),
        correct=correct,
    )


def _chunk_errors(row: Sequence[object]) -> int:
    total = 0
    for c in row:
        kind = c.type  # type: ignore[attr-defined]
        if kind == "insert":
            total += c.hyp_end_idx - c.hyp_start_idx  # type: ignore[attr-defined]
        elif kind != "equal":
            total += c.ref_end_idx - c.ref_start_idx  # type: ignore[attr-defined]
    return total


def count_errors(references: Sequence[str], hypotheses: Sequence[str], *, normalize: bool = True) -> np.ndarray:
    """Word errors (S + D + I) of each (reference, hypothesis) pair, in one jiwer call.

    Example:
        >>> count_errors(["a b", "a b"], ["a b", "a c d"]).tolist()
        [0, 2]
    """
    import jiwer

    refs, hyps = _normalise(references, normalize), _normalise(hypotheses, normalize)
    if not refs:
        return np.zeros(0, dtype=np.int64)
    out = jiwer.process_words(refs, hyps)
    return np.array([_chunk_errors(row) for row in out.alignments], dtype=np.int64)
