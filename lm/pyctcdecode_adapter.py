"""Shallow fusion of ANY :class:`~ctcdecode_kit.lm.LanguageModel` in pyctcdecode's beam search.

:class:`PyctcdecodeLM` implements pyctcdecode's ``AbstractLanguageModel`` (``order``,
``get_start_state``, ``score_partial_token``, ``score(prev_state, word, is_last_word)``)
on top of our protocol, so a user-written Python LM works in the ``"pyctcdecode"``
backend with no other change. The decoder's weights live here, not in the LM. Each
completed word adds, in natural log::

    alpha * logp(word | history) + beta  (+ unk_score_offset when the word is not in the LM's unigrams)

and the end of the hypothesis adds ``alpha * logp(</s> | history)``. While a word is
being spelled, ``unk_score_offset`` (scaled up for prefixes longer than 6 characters,
as pyctcdecode does) is applied when no unigram starts with the partial word; this
needs the LM to expose ``unigrams`` (``KenLM`` does), else partial words cost nothing.
Differences from pyctcdecode's own KenLM wrapper, on purpose: the OOV offset is not
multiplied by ``alpha * ln(10)``, a hypothesis ending in a word delimiter is not
scored as if it ended with an empty unknown word, and all unigrams are used (see
:mod:`ctcdecode_kit.lm.arpa`).

Example:
    >>> from ctcdecode_kit import Vocabulary
    >>> from ctcdecode_kit.lm import NullLM
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> adapter, case = pyctcdecode_language_model(NullLM(), vocabulary=vocab, alpha=0.5,
    ...                                            beta=1.0, unk_score_offset=-10.0)
    >>> adapter.score(adapter.get_start_state(), "AB", is_last_word=True)
    (1.0, ())
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Sequence
from typing import Any

from ctcdecode_kit.errors import LanguageModelError, require
from ctcdecode_kit.inputs import check_finite_number
from ctcdecode_kit.vocabulary import Vocabulary

from .casing import apply_case, check_case
from .fitting import PrefixIndex, check_vocabulary_fits, derived_from_unigrams
from .loading import load_language_model, resolve_lm_case
from .protocol import LanguageModel, score_sentence

__all__ = ["PrefixIndex", "PyctcdecodeLM", "check_vocabulary_fits", "load_language_model", "pyctcdecode_language_model"]

AbstractLanguageModel = require(
    "pyctcdecode.language_model", extra="pyctcdecode", purpose="the pyctcdecode backend"
).AbstractLanguageModel

AVG_WORD_LENGTH = 6  # pyctcdecode's AVG_TOKEN_LEN: longer unknown prefixes cost proportionally more


class PyctcdecodeLM(AbstractLanguageModel):  # type: ignore[misc]
    """pyctcdecode's ``AbstractLanguageModel`` over a :class:`~ctcdecode_kit.lm.LanguageModel`.

    Args:
        lm: the language model (already checked; see :func:`check_language_model`).
        alpha: LM weight; beta: bonus per word; unk_score_offset: log-score added for a
            word that is not in ``lm.unigrams`` (and for an unknown partial word).
        case: the case words arrive in (informational; used by :meth:`sentence_log_prob`).
    """

    def __init__(
        self,
        lm: LanguageModel,
        *,
        alpha: float,
        beta: float,
        unk_score_offset: float,
        case: str | None = None,
    ) -> None:
        self.language_model = lm
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.unk_score_offset = float(unk_score_offset)
        self.case = case
        unigrams = getattr(lm, "unigrams", None)
        self._index = derived_from_unigrams(lm, unigrams, "prefix_index", lambda: PrefixIndex(unigrams)) if unigrams else None

    def with_weights(self, *, alpha: float, beta: float, unk_score_offset: float) -> PyctcdecodeLM:
        """A new adapter of the same LM with other weights; the unigram prefix index is shared, not rebuilt.

        Example:
            >>> from ctcdecode_kit.lm import NullLM
            >>> a = PyctcdecodeLM(NullLM(), alpha=0.5, beta=1.0, unk_score_offset=-10.0)
            >>> b = a.with_weights(alpha=1.0, beta=0.0, unk_score_offset=-5.0)
            >>> (b.alpha, b.beta, a.alpha, b.language_model is a.language_model)
            (1.0, 0.0, 0.5, True)
        """
        for name, value in (("alpha", alpha), ("beta", beta), ("unk_score_offset", unk_score_offset)):
            check_finite_number(name, value)
        other = copy.copy(self)
        other.alpha, other.beta, other.unk_score_offset = float(alpha), float(beta), float(unk_score_offset)
        return other

    @property
    def order(self) -> int:
        return int(self.language_model.order)

    def get_start_state(self) -> Hashable:
        return self.language_model.begin()

    def score_partial_token(self, partial_token: str) -> float:
        if self._index is None or not partial_token or self._index.has_prefix(partial_token):
            return 0.0
        score = self.unk_score_offset
        if len(partial_token) > AVG_WORD_LENGTH:
            score = score * len(partial_token) / AVG_WORD_LENGTH
        return score

    def score(self, prev_state: Hashable, word: str, is_last_word: bool = False) -> tuple[float, Hashable]:
        total = 0.0
        state = prev_state
        if word:
            logp, state = self.language_model.score(prev_state, word)
            total = self.alpha * logp + self.beta
            if self._index is not None and word not in self._index:
                total += self.unk_score_offset
        if is_last_word:
            total += self.alpha * self.language_model.end(state)
        return total, state

    def sentence_log_prob(self, text: str) -> float:
        """Unweighted natural-log LM probability of ``text`` (``</s>`` included), mapped to ``case``."""
        return score_sentence(self.language_model, apply_case(text, self.case).split())

    def score_sentences(self, texts: Sequence[str]) -> list[float]:
        return [self.sentence_log_prob(t) for t in texts]

    def reset_params(self, **params: Any) -> None:
        for name in ("alpha", "beta", "unk_score_offset"):
            if params.get(name) is not None:
                setattr(self, name, float(params[name]))


def pyctcdecode_language_model(
    lm: Any,
    *,
    vocabulary: Vocabulary,
    alpha: float,
    beta: float,
    unk_score_offset: float,
    lm_case: str | None = "auto",
) -> tuple[PyctcdecodeLM, str | None]:
    """Return (pyctcdecode language model, the letter case the labels must be converted to).

    ``lm`` is a path to an ARPA / KenLM binary file (loaded as
    :class:`~ctcdecode_kit.lm.KenLM`) or any :class:`~ctcdecode_kit.lm.LanguageModel`.
    ``lm_case="auto"`` uses the LM's ``case`` attribute, else the case of its
    ``unigrams``, else leaves words in the vocabulary's case; ``"lower"``/``"upper"``
    force it; None never converts.
    """
    check_case(lm_case, "lm_case")
    for name, value in (("alpha", alpha), ("beta", beta), ("unk_score_offset", unk_score_offset)):
        check_finite_number(name, value)
    if not vocabulary.has_word_boundaries:
        raise LanguageModelError(
            "a word language model needs a vocabulary with a word delimiter (e.g. '|' or ' ') or "
            f"'\u2581' word prefixes, but this vocabulary has neither (tokens: {list(vocabulary.tokens)[:12]}...); "
            "pass word_delimiter= to Vocabulary.from_labels"
        )
    model = load_language_model(lm, case="auto" if lm_case == "auto" else lm_case)
    case = resolve_lm_case(model, lm_case)
    check_vocabulary_fits(model, vocabulary, case)
    return PyctcdecodeLM(model, alpha=alpha, beta=beta, unk_score_offset=unk_score_offset, case=case), case
