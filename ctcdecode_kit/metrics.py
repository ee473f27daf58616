"""Word and character error rates over a whole corpus, computed with jiwer.

One normalisation, :func:`normalize_text`, is applied to references and hypotheses
alike (``score(..., normalize=False)`` turns it off):

1. curly and other typographic apostrophes (’ ‘ ʼ ` ´ ′) become ``'``;
2. the text is upper-cased;
3. every character that is not a letter, a digit, whitespace or ``'`` becomes a space
   (so ``love-making`` -> ``LOVE MAKING``, ``end.`` -> ``END``);
4. an apostrophe is kept only inside a word, between two letters or digits
   (``don't`` -> ``DON'T``, ``'tis`` -> ``TIS``, ``dogs'`` -> ``DOGS``);
5. runs of whitespace become one space; leading and trailing spaces go.

Rates are corpus-level: ``wer = (S + D + I) / reference words`` summed over every
utterance, not a mean of per-utterance rates (which would overweight short ones).
``cer`` is the same over characters, spaces between words included (jiwer's
definition).

Example:
    >>> from ctcdecode_kit.metrics import score
    >>> s = score(["the cat sat", "hello"], ["the hat sat down", ""])
    >>> s.wer, (s.substitutions, s.deletions, s.insertions, s.hits, s.ref_words)
    (0.75, (1, 1, 1, 2, 4))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .errors import InputError

__all__ = ["Scores", "normalize_text", "score"]

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc`\u00b4\u2032\u201b"})
_NOT_WORD = re.compile(r"[^\w\s']|_")
_LOOSE_APOSTROPHE = re.compile(r"(?<![^\W_])'|'(?![^\W_])")


def normalize_text(text: str) -> str:
    """The kit's one text normalisation (see the module docs), for references and hypotheses.

    Example:
        >>> normalize_text("  Don’t   stop—the ‘PICNIC’ season!  ")
        "DON'T STOP THE PICNIC SEASON"
    """
    if not isinstance(text, str):
        raise InputError(f"text to normalise must be a str, got {type(text).__name__}")
    text = text.translate(_APOSTROPHES).upper()
    text = _NOT_WORD.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub(" ", text)
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Scores:
    """Corpus-level error counts and rates.

    Attributes:
        wer: (substitutions + deletions + insertions) / ref_words.
        cer: char_errors / ref_chars.
        substitutions, deletions, insertions, hits: word alignment counts summed over
            the corpus (hits + substitutions + deletions == ref_words).
        ref_words: reference words in the corpus.
        ref_chars: reference characters (spaces between words included).
        char_errors: character substitutions + deletions + insertions.
        n_utterances: number of (reference, hypothesis) pairs.
    """

    wer: float
    cer: float
    substitutions: int
    deletions: int
    insertions: int
    hits: int
    ref_words: int
    ref_chars: int
    char_errors: int
    n_utterances: int

    def __post_init__(self) -> None:
        counts = (self.substitutions, self.deletions, self.insertions, self.hits, self.ref_words, self.ref_chars)
        if any(c < 0 for c in counts) or self.char_errors < 0 or self.n_utterances < 0:
            raise InputError(f"Scores counts must be >= 0, got {self}")
        if self.hits + self.substitutions + self.deletions != self.ref_words:
            raise InputError(
                f"Scores are inconsistent: hits {self.hits} + substitutions {self.substitutions} + deletions "
                f"{self.deletions} != ref_words {self.ref_words}"
            )

    @property
    def word_errors(self) -> int:
        """substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of every field.

        Example:
            >>> score(["A B"], ["A B"]).to_dict()["wer"]
            0.0
        """
        return asdict(self)


def _texts(values: Sequence[Any], name: str) -> list[str]:
    if isinstance(values, str):
        raise InputError(f"{name} must be a list of strings, not a single string")
    texts = []
    for i, value in enumerate(values):
        text = getattr(value, "text", value)  # Hypothesis objects are accepted
        if not isinstance(text, str):
            raise InputError(f"{name}[{i}] is {type(value).__name__}; expected a str (or a Hypothesis)")
        texts.append(text)
    return texts


def score(references: Sequence[str], hypotheses: Sequence[Any], *, normalize: bool = True) -> Scores:
    """Score hypotheses against references over the whole corpus.

    Args:
        references: reference transcripts.
        hypotheses: one hypothesis per reference: a str or a :class:`~ctcdecode_kit.Hypothesis`;
            empty hypotheses count every reference word as a deletion.
        normalize: apply :func:`normalize_text` to both sides (default True).

    Raises:
        InputError: different lengths, an empty corpus, non-str items, or references
            with no words at all (WER would be undefined).

    Example:
        >>> score(["ALSO A POPULAR"], ["also a popular."]).wer
        0.0
    """
    import jiwer

    refs, hyps = _texts(references, "references"), _texts(hypotheses, "hypotheses")
    if len(refs) != len(hyps):
        raise InputError(f"score needs one hypothesis per reference, got {len(refs)} references and {len(hyps)} hypotheses")
    if not refs:
        raise InputError("score needs at least one (reference, hypothesis) pair, got none")
    if normalize:
        refs, hyps = [normalize_text(r) for r in refs], [normalize_text(h) for h in hyps]
    else:
        refs, hyps = [" ".join(r.split()) for r in refs], [" ".join(h.split()) for h in hyps]
    ref_words = sum(len(r.split()) for r in refs)
    if ref_words == 0:
        raise InputError(
            f"the {len(refs)} reference(s) hold no words{' after normalisation' if normalize else ''}; WER is undefined"
        )
    words = jiwer.process_words(refs, hyps)
    chars = jiwer.process_characters(refs, hyps)
    ref_chars = sum(len(r) for r in refs)
    char_errors = chars.substitutions + chars.deletions + chars.insertions
    return Scores(
        wer=(words.substitutions + words.deletions + words.insertions) / ref_words,
        cer=char_errors / ref_chars,
        substitutions=words.substitutions,
        deletions=words.deletions,
        insertions=words.insertions,
        hits=words.hits,
        ref_words=ref_words,
        ref_chars=ref_chars,
        char_errors=char_errors,
        n_utterances=len(refs),
    )
