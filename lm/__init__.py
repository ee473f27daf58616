"""Language models for ctcdecode_kit (imported as ``ctcdecode_kit.lm``).

One small protocol, :class:`LanguageModel` (``order``, ``begin()``, ``score(state, word)
-> (logp, new_state)``, ``end(state)``; natural-log scores, hashable states), served by:

* :class:`KenLM` -- ARPA / KenLM binary n-gram models (case mapping, full unigram list);
* :class:`CausalLM` -- a Hugging Face causal LM (GPT-2 style), for rescoring;
* :class:`NullLM` -- all zeros;
* your own class (subclass :class:`LanguageModelBase`).

The same object works for shallow fusion in beam search
(``build_decoder("pyctcdecode", vocab, lm=my_lm, alpha=.5, beta=1)``) and for n-best
rescoring (``build_decoder("rescore", vocab, lms=[my_lm], alphas=[.5])``).
:func:`build_arpa` writes a modified Kneser-Ney ARPA model from text.

A path given as ``lm=`` is loaded once per process: :func:`load_lm` keeps every model it
loads in a process-wide cache keyed by the file (resolved path, size, modification time)
and the options that change the model, so ``tune``'s trials and ``compare``'s decoders
share one load. This is the kit's one deliberate piece of global state; :func:`clear_cache`
empties it and :func:`load_count` counts real loads (see :mod:`ctcdecode_kit.lm.cache`).

Example:
    >>> from ctcdecode_kit.lm import LanguageModelBase, word_scores
    >>> class Unigram(LanguageModelBase):
    ...     order = 1
    ...     def begin(self): return ()
    ...     def score(self, state, word): return (-1.0 if word == "HI" else -9.0), ()
    ...     def end(self, state): return -0.5
    >>> word_scores(Unigram(), "HI THERE")
    [('HI', -1.0), ('THERE', -9.0), ('</s>', -0.5)]
"""

from __future__ import annotations

import importlib
from typing import Any

from .arpa import ArpaFormatError, ArpaInfo, inspect_arpa
from .build import ArpaStats, build_arpa, normalize_line
from .cache import clear_cache, load_count, load_lm
from .casing import detect_case
from .kenlm_model import KenLM, log10_to_ln
from .loading import load_language_model, resolve_lm_case
from .protocol import (
    END_OF_SENTENCE,
    UNBOUNDED_ORDER,
    CheckedLanguageModel,
    LanguageModel,
    LanguageModelBase,
    NullLM,
    check_language_model,
    score_sentence,
    word_scores,
)

__all__ = [
    "ArpaLM",
    "END_OF_SENTENCE",
    "UNBOUNDED_ORDER",
    "ArpaFormatError",
    "ArpaInfo",
    "ArpaStats",
    "CausalLM",
    "CheckedLanguageModel",
    "KenLM",
    "LanguageModel",
    "LanguageModelBase",
    "NullLM",
    "PyctcdecodeLM",
    "build_arpa",
    "check_language_model",
    "clear_cache",
    "detect_case",
    "inspect_arpa",
    "load_count",
    "load_language_model",
    "load_lm",
    "log10_to_ln",
    "normalize_line",
    "pyctcdecode_language_model",
    "resolve_lm_case",
    "score_sentence",
    "word_scores",
]

# heavy imports (transformers, pyctcdecode) happen on first use
_LAZY = {
    "ArpaLM": ".ngram",
    "CausalLM": ".causal",
    "PyctcdecodeLM": ".pyctcdecode_adapter",
    "pyctcdecode_language_model": ".pyctcdecode_adapter",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
