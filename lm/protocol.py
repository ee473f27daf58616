"""The one language-model interface of ctcdecode_kit: :class:`LanguageModel`.

A language model is any object with

* ``order`` -- the longest history it looks at, in words, counting the predicted word
  (3 for a trigram; a large number for an unbounded model);
* ``begin() -> state`` -- the state at the start of a sentence;
* ``score(state, word) -> (logp, new_state)`` -- natural-log probability of ``word``
  after ``state`` and the state that follows (always this tuple order);
* ``end(state) -> logp`` -- natural-log probability of the end of the sentence.

States are opaque to the decoders but must be hashable (decoders cache on them).
Scores are raw natural-log probabilities: the LM weight ``alpha`` and the word bonus
``beta`` belong to the decoder, never to the LM, so one LM object serves shallow fusion
in beam search and n-best rescoring alike.

Subclass :class:`LanguageModelBase` to get :meth:`~LanguageModelBase.score_sentence`
and :meth:`~LanguageModelBase.word_scores` for free; the module-level
:func:`score_sentence` and :func:`word_scores` work on any object that follows the
protocol. :func:`check_language_model` validates a user's object up front (naming the
missing method) and wraps it so that bad scores are caught at use time.

Example:
    >>> from ctcdecode_kit.lm import LanguageModelBase, score_sentence
    >>> class Likes(LanguageModelBase):
    ...     order = 1
    ...     def begin(self): return ()
    ...     def score(self, state, word): return (-0.1 if word == "yes" else -5.0), ()
    ...     def end(self, state): return -1.0
    >>> Likes().score_sentence("yes no")
    -6.1
    >>> round(score_sentence(Likes(), ["yes"]), 6)
    -1.1
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, Protocol, runtime_checkable

from ctcdecode_kit.errors import LanguageModelError

__all__ = [
    "END_OF_SENTENCE",
    "UNBOUNDED_ORDER",
    "CheckedLanguageModel",
    "LanguageModel",
    "LanguageModelBase",
    "NullLM",
    "check_language_model",
    "lm_name",
    "score_sentence",
    "word_scores",
]

END_OF_SENTENCE = "</s>"
"""The label :func:`word_scores` gives the end-of-sentence score."""

UNBOUNDED_ORDER = 2**31 - 1
"""``order`` of a model whose history is unbounded (e.g. a neural causal LM)."""

_REQUIRED_METHODS = ("begin()", "score(state, word)", "end(state)")


@runtime_checkable
class LanguageModel(Protocol):
    """What every language model provides (natural-log scores, opaque hashable states)."""

    order: int

    def begin(self) -> Hashable:
        """The state at the start of a sentence."""
        ...

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        """``(log P(word | state), next state)``."""
        ...

    def end(self, state: Hashable) -> float:
        """``log P(</s> | state)``."""
        ...


def _as_words(words: Sequence[str] | str) -> list[str]:
    if isinstance(words, str):
        return words.split()
    return [w for w in words]


def word_scores(lm: LanguageModel, words: Sequence[str] | str) -> list[tuple[str, float]]:
    """Per-word natural-log scores of a sentence, ending with ``("</s>", end score)``.

    ``words`` is a list of words or a string (split on whitespace).

    Example:
        >>> word_scores(NullLM(), "hello world")
        [('hello', 0.0), ('world', 0.0), ('</s>', 0.0)]
    """
    state = lm.begin()
    result = []
    for word in _as_words(words):
        logp, state = lm.score(state, word)
        result.append((word, float(logp)))
    result.append((END_OF_SENTENCE, float(lm.end(state))))
    return result


def score_sentence(lm: LanguageModel, words: Sequence[str] | str) -> float:
    """Natural-log probability of a whole sentence, ``</s>`` included.

    ``words`` is a list of words or a string (split on whitespace). An LM that has its
    own ``score_sentence`` is asked directly (it may be batched or cheaper).

    Example:
        >>> score_sentence(NullLM(), ["a", "b"])
        0.0
    """
    own = getattr(lm, "score_sentence", None)
    if callable(own):
        return float(own(_as_words(words)))
    return _stepwise_sentence_score(lm, words)


def _stepwise_sentence_score(lm: LanguageModel, words: Sequence[str] | str) -> float:
    return math.fsum(logp for _, logp in word_scores(lm, words))


class LanguageModelBase:
    """Base class for language models: implement ``order``, ``begin``, ``score``, ``end``.

    Provides :meth:`score_sentence`, :meth:`word_scores` and :meth:`score_sentences`
    (a plain loop; a batched model overrides it).
    """

    order: int = 1

    def begin(self) -> Hashable:
        raise NotImplementedError

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        raise NotImplementedError

    def end(self, state: Hashable) -> float:
        raise NotImplementedError

    def score_sentence(self, words: Sequence[str] | str) -> float:
        """Natural-log probability of ``words`` (a list or a whitespace-split string) incl. ``</s>``."""
        return _stepwise_sentence_score(self, words)

    def word_scores(self, words: Sequence[str] | str) -> list[tuple[str, float]]:
        """Per-word breakdown of :meth:`score_sentence`, ending with ``("</s>", logp)``."""
        return word_scores(self, words)

    def score_sentences(self, sentences: Sequence[Sequence[str] | str]) -> list[float]:
        """:meth:`score_sentence` of each sentence."""
        return [self.score_sentence(s) for s in sentences]


class NullLM(LanguageModelBase):
    """The LM that knows nothing: every score is 0.0 (use it instead of ``None`` checks).

    Example:
        >>> lm = NullLM()
        >>> lm.score(lm.begin(), "anything")
        (0.0, ())
    """

    order = 1
    _ctcdecode_kit_trusted = True

    def begin(self) -> tuple[()]:
        return ()

    def score(self, state: Hashable, word: str) -> tuple[float, tuple[()]]:
        return 0.0, ()

    def end(self, state: Hashable) -> float:
        return 0.0

    def __repr__(self) -> str:
        return "NullLM()"


def lm_name(lm: object) -> str:
    """A short name for messages: the class name (and path when the LM has one)."""
    if isinstance(lm, CheckedLanguageModel):
        return lm.name
    name = type(lm).__name__
    path = getattr(lm, "path", None)
    return f"{name}({str(path)!r})" if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__") else name


def _missing_methods(obj: object) -> list[str]:
    missing = []
    for signature in _REQUIRED_METHODS:
        method = signature.split("(")[0]
        if not callable(getattr(obj, method, None)):
            missing.append(signature)
    return missing


def _check_order(obj: object, name: str) -> int:
    if not hasattr(obj, "order"):
        raise LanguageModelError(
            f"custom LM {name} has no 'order' attribute; set order to the longest history it uses "
            f"in words (e.g. order = 3 for a trigram, or UNBOUNDED_ORDER)"
        )
    order = obj.order  # type: ignore[attr-defined]
    if isinstance(order, bool) or not isinstance(order, int):
        raise LanguageModelError(f"LM {name} has order {order!r}; order must be an integer >= 1")
    if order < 1:
        raise LanguageModelError(
            f"LM {name} has order {order}; order must be >= 1 (an n-gram LM of order 0 predicts nothing)"
        )
    return order


def check_language_model(obj: object) -> LanguageModel:
    """Check that ``obj`` follows the :class:`LanguageModel` protocol and make it safe to use.

    Raises :class:`~ctcdecode_kit.errors.LanguageModelError` naming the missing method
    (``"custom LM MyLM does not implement end(state)"``) or a bad ``order``. The
    ``KenLM`` and ``NullLM`` classes of this package are returned as they are; any other
    object is wrapped in a :class:`CheckedLanguageModel`, which checks every score at use
    time (a non-finite or non-number score, a swapped ``(state, logp)`` tuple, an
    unhashable state, or an exception raised inside the LM becomes a
    ``LanguageModelError`` naming the LM and the word).

    Example:
        >>> class NoEnd:
        ...     order = 2
        ...     def begin(self): return ()
        ...     def score(self, state, word): return 0.0, ()
        >>> check_language_model(NoEnd())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ctcdecode_kit.errors.LanguageModelError: custom LM NoEnd does not implement end(state) ...
    """
    if isinstance(obj, CheckedLanguageModel):
        return obj
    name = lm_name(obj)
    if isinstance(obj, (str, bytes)) or hasattr(obj, "__fspath__"):
        raise LanguageModelError(
            f"expected a LanguageModel object, got the path {obj!r}; load it with KenLM({obj!r})"
        )
    missing = _missing_methods(obj)
    if missing:
        raise LanguageModelError(
            f"custom LM {name} does not implement {' and '.join(missing)} "
            f"(a LanguageModel needs order, begin() -> state, score(state, word) -> (logp, new_state) "
            f"and end(state) -> logp; subclass ctcdecode_kit.lm.LanguageModelBase)"
        )
    _check_order(obj, name)
    if vars(type(obj)).get("_ctcdecode_kit_trusted", False):  # our own classes, not subclasses
        return obj  # type: ignore[return-value]
    return CheckedLanguageModel(obj, name)


class CheckedLanguageModel(LanguageModelBase):
    """A user's LM behind checks: every call's result is validated (see :func:`check_language_model`).

    ``unigrams``, ``case`` and ``score_sentences`` of the wrapped object are passed through;
    ``inner`` is the wrapped object.
    """

    def __init__(self, inner: object, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or lm_name(inner)
        self.order = _check_order(inner, self.name)

    @property
    def unigrams(self) -> Any:
        return getattr(self.inner, "unigrams", None)

    @property
    def case(self) -> Any:
        return getattr(self.inner, "case", None)

    def _fail(self, what: str, word: str | None, exc: BaseException) -> LanguageModelError:
        where = f" while scoring the word {word!r}" if word is not None else ""
        return LanguageModelError(
            f"custom LM {self.name} raised {type(exc).__name__} in {what}{where}: {exc}"
        )

    def _logp(self, value: Any, what: str, word: str | None) -> float:
        where = f" for the word {word!r}" if word is not None else ""
        if not _is_number_like(value):
            raise LanguageModelError(
                f"custom LM {self.name} returned {value!r} from {what}{where}; expected a float log-probability"
            )
        logp = float(value)
        if not math.isfinite(logp):
            raise LanguageModelError(
                f"custom LM {self.name} returned the non-finite score {logp} from {what}{where}; "
                f"scores must be finite natural-log probabilities (use e.g. -1e4 for 'impossible')"
            )
        return logp

    def _state(self, state: Any, what: str, word: str | None) -> Hashable:
        try:
            hash(state)
        except TypeError:
            where = f" for the word {word!r}" if word is not None else ""
            raise LanguageModelError(
                f"custom LM {self.name} returned an unhashable state of type {type(state).__name__} "
                f"from {what}{where}; states must be hashable (use a tuple, not a list)"
            ) from None
        return state

    def _own(self, method: str) -> Any:
        """The inner LM's own ``method`` when it has one (not LanguageModelBase's default)."""
        own = getattr(self.inner, method, None)
        if not callable(own) or getattr(type(self.inner), method, None) is getattr(LanguageModelBase, method):
            return None
        return own

    def begin(self) -> Hashable:
        try:
            state = self.inner.begin()  # type: ignore[attr-defined]
        except LanguageModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure inside user code is wrapped
            raise self._fail("begin()", None, exc) from exc
        return self._state(state, "begin()", None)

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        try:
            result = self.inner.score(state, word)  # type: ignore[attr-defined]
        except LanguageModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._fail("score(state, word)", word, exc) from exc
        if not isinstance(result, tuple) or len(result) != 2:
            raise LanguageModelError(
                f"custom LM {self.name} returned {result!r} from score(state, {word!r}); "
                f"expected a tuple (logp, new_state)"
            )
        logp, new_state = result
        if not _is_number_like(logp) and _is_number_like(new_state):
            raise LanguageModelError(
                f"custom LM {self.name} returned (state, logp) from score(state, {word!r}); "
                f"the order is (logp, new_state)"
            )
        return self._logp(logp, "score(state, word)", word), self._state(new_state, "score(state, word)", word)

    def end(self, state: Hashable) -> float:
        try:
            value = self.inner.end(state)  # type: ignore[attr-defined]
        except LanguageModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._fail("end(state)", END_OF_SENTENCE, exc) from exc
        return self._logp(value, "end(state)", END_OF_SENTENCE)

    def score_sentence(self, words: Sequence[str] | str) -> float:
        own = self._own("score_sentence")
        if own is None:
            return _stepwise_sentence_score(self, words)
        try:
            value = own(_as_words(words))
        except LanguageModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._fail("score_sentence(words)", " ".join(_as_words(words)), exc) from exc
        return self._logp(value, "score_sentence(words)", " ".join(_as_words(words)))

    def score_sentences(self, sentences: Sequence[Sequence[str] | str]) -> list[float]:
        own = self._own("score_sentences")
        if own is None:
            return [self.score_sentence(s) for s in sentences]
        lists = [_as_words(s) for s in sentences]
        try:
            values = list(own(lists))
        except LanguageModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._fail("score_sentences(sentences)", None, exc) from exc
        if len(values) != len(lists):
            raise LanguageModelError(
                f"custom LM {self.name} returned {len(values)} scores from score_sentences() "
                f"for {len(lists)} sentences"
            )
        return [self._logp(v, "score_sentences(sentences)", " ".join(w)) for v, w in zip(values, lists)]

    def __repr__(self) -> str:
        return f"CheckedLanguageModel({self.name})"


def _is_number_like(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    # numpy / torch scalars
    return hasattr(value, "__float__") and getattr(value, "shape", ()) == () and not isinstance(value, str)
