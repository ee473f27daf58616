"""Letter case of a language model's vocabulary, and mapping words to it.

wav2vec2 vocabularies are UPPERCASE while most published ARPA files (LibriSpeech's
included) are lowercase: without mapping, every word would be scored as unknown.
``case`` options everywhere take ``"auto"`` (detect), ``"lower"``, ``"upper"`` or
``None`` (leave words as they are).

Example:
    >>> detect_case(["the", "cat", "NASA"])
    'lower'
    >>> apply_case("THE", "lower")
    'the'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ctcdecode_kit.errors import InputError

__all__ = ["CASES", "apply_case", "case_mapper", "check_case", "detect_case", "probe_case"]

CASES = ("auto", "lower", "upper", None)

# frequent English words, used to guess the case of a model whose word list is unknown
_PROBE_WORDS = ("the", "a", "and", "of", "to", "in", "i", "is", "that", "it", "he", "was", "you", "for")


def check_case(case: object, name: str = "case") -> str | None:
    """Return ``case`` if it is one of ``"auto"``, ``"lower"``, ``"upper"``, None; else raise InputError."""
    if case not in CASES:
        raise InputError(f"{name} must be one of 'auto', 'lower', 'upper' or None, got {case!r}")
    return case  # type: ignore[return-value]


def detect_case(words: Iterable[str]) -> str | None:
    """``"lower"`` or ``"upper"``: the case most cased words are in; None when no word has letters.

    Example:
        >>> detect_case(["HELLO", "WORLD", "a"]), detect_case(["123", "'"])
        ('upper', None)
    """
    upper = lower = 0
    for word in words:
        if word.islower():
            lower += 1
        elif word.isupper():
            upper += 1
    if upper == lower == 0:
        return None
    return "upper" if upper > lower else "lower"


def probe_case(contains: Callable[[str], bool]) -> str | None:
    """Guess a model's case from whether frequent English words are in it (lower vs UPPER).

    ``contains(word)`` says whether the model knows ``word``; None when neither form is known.
    """
    lower = sum(1 for w in _PROBE_WORDS if contains(w))
    upper = sum(1 for w in _PROBE_WORDS if contains(w.upper()))
    if lower == upper == 0:
        return None
    return "upper" if upper > lower else "lower"


def case_mapper(case: str | None) -> Callable[[str], str] | None:
    """The function that maps a word to ``case`` (None when words are left unchanged)."""
    if case == "lower":
        return str.lower
    if case == "upper":
        return str.upper
    return None


def apply_case(text: str, case: str | None) -> str:
    """``text`` in ``case`` ("lower", "upper", or None for unchanged)."""
    mapper = case_mapper(case)
    return mapper(text) if mapper is not None else text
