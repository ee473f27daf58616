"""Vocabulary -> beam-search labels: the one place that maps special tokens and letter case.

Both beam backends (``pyctcdecode`` and ``native``) search over a list of string labels:
the blank becomes ``""``, the word delimiter ``" "``, each special token (``<s>``,
``<unk>``...) a character of the Unicode private-use area that :func:`strip_private`
removes from output text, and letters follow the language model's case.

Example:
    >>> from ctcdecode_kit import Vocabulary
    >>> from ctcdecode_kit.labels import beam_labels, strip_private
    >>> labels = beam_labels(Vocabulary.from_labels(["<pad>", "<unk>", "|", "A"]), case="lower")
    >>> labels
    ['', '\\ue001', ' ', 'a']
    >>> strip_private("a\\ue001 a")
    'a a'
"""

from __future__ import annotations

from .errors import InputError
from .vocabulary import Vocabulary

__all__ = ["MAX_BEAM_WIDTH", "PRIVATE_BASE", "beam_labels", "pyctcdecode_labels", "strip_private"]

PRIVATE_BASE = 0xE000
"""First code point of the private-use stand-ins of special tokens (token id i -> PRIVATE_BASE + i)."""

MAX_BEAM_WIDTH = 10_000
"""The widest beam any beam backend accepts."""


def beam_labels(vocabulary: Vocabulary, case: str | None = None) -> list[str]:
    """The label list a beam search over ``vocabulary`` uses.

    The blank becomes ``""``, the word delimiter ``" "``, and each special token a
    private-use character (removed from the output text). ``case`` ("lower"/"upper")
    converts the letters to match a language model.

    Example:
        >>> v = Vocabulary.from_labels(["<pad>", "<unk>", "|", "A"])
        >>> beam_labels(v, case="lower")
        ['', '\\ue001', ' ', 'a']
    """
    labels = []
    for i, token in enumerate(vocabulary.tokens):
        if i == vocabulary.blank:
            labels.append("")
        elif i == vocabulary.word_delimiter:
            labels.append(" ")
        elif i in vocabulary.special:
            labels.append(chr(PRIVATE_BASE + i))
        elif case == "lower":
            labels.append(token.lower())
        elif case == "upper":
            labels.append(token.upper())
        else:
            labels.append(token)
    if len(set(labels)) != len(labels):
        raise InputError(
            f"the vocabulary's tokens collide after case conversion to {case!r}; pass lm_case=None"
        )
    return labels


pyctcdecode_labels = beam_labels
"""The same function under the name pyctcdecode users know (its ``Alphabet`` labels)."""


def strip_private(text: str) -> str:
    """``text`` without the private-use stand-ins of special tokens, whitespace normalised.

    Example:
        >>> strip_private("  a\\ue003b   c ")
        'ab c'
    """
    return " ".join("".join(c for c in text if not PRIVATE_BASE <= ord(c) < PRIVATE_BASE + 0x1000).split())
