"""Does an acoustic vocabulary fit a word LM? Shared by every backend that fuses or rescores
with a :class:`~ctcdecode_kit.lm.LanguageModel` (``pyctcdecode``, ``rescore``).

:func:`check_vocabulary_fits` refuses a vocabulary that cannot spell any of the LM's words
and warns when it can spell few; :class:`PrefixIndex` answers "does some unigram start
with this partial word?".

Example:
    >>> from ctcdecode_kit import Vocabulary
    >>> from ctcdecode_kit.lm import NullLM
    >>> check_vocabulary_fits(NullLM(), Vocabulary.from_labels(["<pad>", "|", "A"]), None) is None
    True
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from ctcdecode_kit.errors import LanguageModelError
from ctcdecode_kit.vocabulary import Vocabulary

from .casing import apply_case
from .protocol import LanguageModel, lm_name

__all__ = ["PrefixIndex", "check_vocabulary_fits", "derived_from_unigrams"]


class PrefixIndex:
    """Which strings start some word of a word list (a sorted array searched by bisection).

    Example:
        >>> index = PrefixIndex(["cat", "car", "dog"])
        >>> index.has_prefix("ca"), index.has_prefix("cb"), "car" in index
        (True, False, True)
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._words = sorted(set(words))
        self._set = frozenset(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._set

    def __len__(self) -> int:
        return len(self._words)

    def has_prefix(self, prefix: str) -> bool:
        """Whether some word starts with ``prefix``."""
        at = bisect.bisect_left(self._words, prefix)
        return at < len(self._words) and self._words[at].startswith(prefix)


def derived_from_unigrams(lm: Any, unigrams: Any, key: Hashable, make: Callable[[], Any]) -> Any:
    """``make()`` over ``lm``'s current ``unigrams``, computed once per LM object and word list.

    A derived decoder (``with_options``: ``tune``'s trials) then reuses the prefix index
    and the vocabulary check of its LM instead of redoing them (0.3 s per decoder for
    LibriSpeech's 200,000 unigrams); a new word list (``lm.unigrams = ...``) is seen.
    """
    from .cache import derived

    kept, value = derived(lm, (key, id(unigrams)), lambda: (unigrams, make()))
    return value if kept is unigrams else make()


def _spelling_characters(vocabulary: Vocabulary, case: str | None) -> set[str]:
    chars: set[str] = set()
    for i, token in enumerate(vocabulary.tokens):
        if i == vocabulary.blank or i == vocabulary.word_delimiter or i in vocabulary.special:
            continue
        chars.update(apply_case(token.lstrip("\u2581"), case))
    return chars


def check_vocabulary_fits(
    lm: LanguageModel, vocabulary: Vocabulary, case: str | None, *, min_fraction: float = 0.05
) -> float | None:
    """Check that the acoustic ``vocabulary`` can spell the words of ``lm``.

    Raises :class:`LanguageModelError` when the vocabulary has no word boundaries (a
    word LM cannot be used) or when NONE of the LM's unigrams can be spelled (wrong
    language or alphabet); warns when fewer than ``min_fraction`` can. Returns the
    fraction of spellable unigrams (None when the LM exposes no ``unigrams``).
    """
    if not vocabulary.has_word_boundaries:
        raise LanguageModelError(
            f"a word language model ({lm_name(lm)}) needs a vocabulary with a word delimiter "
            f"(e.g. '|' or ' ') or '\u2581' word prefixes, but this vocabulary has neither "
            f"(tokens: {list(vocabulary.tokens)[:12]}...); pass word_delimiter= to Vocabulary.from_labels"
        )
    unigrams = getattr(lm, "unigrams", None)
    if not unigrams:
        return None
    chars = frozenset(_spelling_characters(vocabulary, case))
    words = list(unigrams)
    spellable = derived_from_unigrams(
        lm, unigrams, ("spellable", chars), lambda: sum(1 for w in words if set(w) <= chars)
    )
    fraction = spellable / len(words)
    if spellable == 0:
        example = ", ".join(repr(w) for w in words[:5])
        raise LanguageModelError(
            f"none of the {len(words)} words of {lm_name(lm)} (e.g. {example}) can be spelled with the "
            f"vocabulary's characters {''.join(sorted(chars))!r} (case {case!r}): the LM and the acoustic "
            f"model do not share an alphabet. Use an LM of the same language and script, or pass lm_case="
        )
    if fraction < min_fraction:
        warnings.warn(
            f"only {spellable} of the {len(words)} words of {lm_name(lm)} ({fraction:.1%}) can be spelled "
            f"with the vocabulary's characters {''.join(sorted(chars))!r}; is this the right LM?",
            UserWarning,
            stacklevel=3,
        )
    return fraction
