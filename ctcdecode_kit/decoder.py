"""The one decoding interface (:class:`Decoder`) and the registry of backends.

Every backend takes the same input (logits or log-probs ``[T, V]`` / ``[B, T, V]`` as a
numpy array or torch tensor, plus optional ``lengths``) and returns the same output: one
n-best list of :class:`~ctcdecode_kit.Hypothesis` per utterance, best first.

Backends are picked by name with :func:`build_decoder`; :func:`register_decoder` adds
your own, which the CLI then accepts too.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> logits = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]]))
    >>> build_decoder("greedy", vocab).decode(logits)[0][0].text
    'AB'
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .errors import InputError, MissingDependencyError, UnknownDecoderError
from .hypothesis import Hypothesis
from .inputs import InputType, LogProbBatch, check_positive_int, prepare_log_probs
from .vocabulary import Vocabulary

__all__ = [
    "Decoder",
    "DecoderBase",
    "build_decoder",
    "decoder_option_names",
    "list_decoders",
    "register_decoder",
]


@runtime_checkable
class Decoder(Protocol):
    """What every decoder provides.

    ``decode(logits, lengths=None, *, nbest=None)`` returns ``list[list[Hypothesis]]``:
    one list per utterance, best first, of at most ``nbest`` hypotheses (None: the
    decoder's configured default, 1 unless set).
    """

    vocabulary: Vocabulary

    def decode(self, logits: Any, lengths: Any = None, *, nbest: int | None = None) -> list[list[Hypothesis]]:
        ...


class DecoderBase:
    """Shared plumbing for backends: input checking, then :meth:`_decode_batch`.

    Subclasses implement ``_decode_batch(batch, nbest)`` on a validated
    :class:`~ctcdecode_kit.inputs.LogProbBatch`.

    Args:
        vocabulary: the output vocabulary of the acoustic model.
        frame_rate: frames per second of the logits (50 for wav2vec2); when given, word
            timestamps are also reported in seconds.
        input_type: what ``logits`` hold, see :func:`~ctcdecode_kit.inputs.prepare_log_probs`.
        nbest: default number of hypotheses per utterance.
    """

    name = "base"

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        frame_rate: float | None = None,
        input_type: InputType = "auto",
        nbest: int = 1,
    ) -> None:
        if not isinstance(vocabulary, Vocabulary):
            raise InputError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
        if frame_rate is not None and not (isinstance(frame_rate, (int, float)) and frame_rate > 0):
            raise InputError(f"frame_rate must be a positive number of frames per second, got {frame_rate!r}")
        self.vocabulary = vocabulary
        self.frame_rate = float(frame_rate) if frame_rate is not None else None
        self.input_type = input_type
        self.nbest = check_positive_int("nbest", nbest)

    def decode(self, logits: Any, lengths: Any = None, *, nbest: int | None = None) -> list[list[Hypothesis]]:
        """Decode a batch; see :class:`Decoder`."""
        count = self.nbest if nbest is None else check_positive_int("nbest", nbest)
        batch = prepare_log_probs(logits, lengths, vocab_size=len(self.vocabulary), input_type=self.input_type)
        return self._decode_batch(batch, count)

    def _decode_batch(self, batch: LogProbBatch, nbest: int) -> list[list[Hypothesis]]:
        raise NotImplementedError

    def with_options(self, **changes: Any) -> DecoderBase:
        """A new decoder like this one with some options changed; this one is left untouched.

        Heavy state (a loaded language model) is shared, not loaded again, so deriving
        decoders for new weights is cheap; this is how ``tune`` tries ``alpha``/``beta``.
        Backends record their options in ``self._config`` (the constructor's keyword
        arguments, with ``lm`` already loaded); an unknown option is refused.

        Example:
            >>> from ctcdecode_kit import build_decoder
            >>> greedy = build_decoder("greedy", ["<pad>", "|", "A"])
            >>> greedy.with_options(frame_rate=50).frame_rate, greedy.frame_rate
            (50.0, None)
        """
        config = getattr(self, "_config", None)
        if config is None:
            raise NotImplementedError(
                f"{type(self).__name__} does not record its options (self._config), so it cannot derive a copy"
            )
        _check_options(getattr(self, "name", type(self).__name__), type(self), changes)
        return type(self)(self.vocabulary, **{**config, **changes})

    def close(self) -> None:
        """Release worker processes or native resources (safe to call twice)."""

    def __enter__(self) -> DecoderBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocabulary={len(self.vocabulary)} tokens)"


DecoderFactory = Callable[..., Decoder]

_BUILTIN: dict[str, str] = {
    "greedy": "ctcdecode_kit.decoders.greedy:GreedyDecoder",
    "pyctcdecode": "ctcdecode_kit.decoders.pyctcdecode:PyctcdecodeDecoder",
    "native": "ctcdecode_kit.decoders.native:NativeDecoder",
    "rescore": "ctcdecode_kit.decoders.rescore:RescoreDecoder",
}
_REGISTRY: dict[str, DecoderFactory | str] = dict(_BUILTIN)


def register_decoder(
    name: str, factory: DecoderFactory | str | None = None, *, overwrite: bool = False
) -> Any:
    """Register a decoder factory under ``name`` (usable as a class decorator).

    ``factory`` is called as ``factory(vocabulary, **options)``; it may also be a
    ``"module:attribute"`` string, imported on first use.

    Example:
        >>> from ctcdecode_kit import register_decoder, list_decoders
        >>> from ctcdecode_kit.decoders.greedy import GreedyDecoder
        >>> @register_decoder("my-greedy", overwrite=True)
        ... class MyGreedy(GreedyDecoder):
        ...     pass
        >>> "my-greedy" in list_decoders()
        True
    """
    if not isinstance(name, str) or not name or any(c.isspace() or c in "+,=" for c in name):
        raise InputError(f"decoder name must be a non-empty string without spaces, '+', ',' or '=', got {name!r}")

    def add(target: DecoderFactory | str) -> Any:
        if name in _REGISTRY and not overwrite and _REGISTRY[name] is not target:
            raise InputError(f"a decoder named {name!r} is already registered; pass overwrite=True to replace it")
        _REGISTRY[name] = target
        return target

    if factory is None:
        return add
    return add(factory)


def list_decoders() -> list[str]:
    """Names accepted by :func:`build_decoder`, sorted.

    Example:
        >>> {"greedy", "pyctcdecode"} <= set(list_decoders())
        True
    """
    return sorted(_REGISTRY)


def _resolve_factory(name: str) -> DecoderFactory:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownDecoderError(
            f"unknown decoder {name!r}; known decoders: {', '.join(list_decoders())}"
        )
    target = _REGISTRY[name]
    if isinstance(target, str):
        module_name, _, attribute = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except MissingDependencyError:
            raise
        except ImportError as exc:
            raise MissingDependencyError(f"decoder {name!r} is unavailable: {exc}") from exc
        target = getattr(module, attribute)
        _REGISTRY[name] = target
    return target


def build_decoder(name: str, vocabulary: Vocabulary | str | Path | list[str], **options: Any) -> Decoder:
    """Build the decoder registered as ``name`` for ``vocabulary``.

    ``vocabulary`` may be a :class:`Vocabulary`, a path to a ``vocab.json`` /
    ``tokens.txt``, or a list of labels. ``options`` go to the backend (for example
    ``beam_width``, ``lm``, ``alpha``, ``beta``, ``frame_rate``); an unknown option is
    refused with the list of valid ones.

    Example:
        >>> decoder = build_decoder("greedy", ["<pad>", "|", "A", "B"], frame_rate=50)
        >>> type(decoder).__name__
        'GreedyDecoder'
    """
    factory = _resolve_factory(name)
    if isinstance(vocabulary, (str, Path)):
        vocabulary = Vocabulary.from_file(vocabulary)
    elif isinstance(vocabulary, (list, tuple)):
        vocabulary = Vocabulary.from_labels(vocabulary)
    elif not isinstance(vocabulary, Vocabulary):
        raise InputError(
            f"vocabulary must be a Vocabulary, a path to a vocabulary file or a list of labels, "
            f"got {type(vocabulary).__name__}"
        )
    _check_options(name, factory, options)
    return factory(vocabulary, **options)


def decoder_option_names(name: str) -> frozenset[str] | None:
    """The keyword options the decoder registered as ``name`` takes (None: any, it has ``**options``).

    Example:
        >>> sorted(decoder_option_names("greedy"))
        ['frame_rate', 'input_type', 'nbest']
    """
    return _option_names(_resolve_factory(name))


def _option_names(factory: DecoderFactory) -> frozenset[str] | None:
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params[1:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))


def _check_options(name: str, factory: DecoderFactory, options: dict[str, Any]) -> None:
    accepted = _option_names(factory)
    if accepted is None:
        return
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InputError(
            f"decoder {name!r} does not take option(s) {', '.join(unknown)}; "
            f"valid options: {', '.join(sorted(accepted))}"
        )
