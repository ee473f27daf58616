"""Bridge from ctcdecode_kit language models to pyctcdecode's LM interface.

Foundation version: accepts a path to an ARPA or KenLM binary file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ctcdecode_kit.errors import LanguageModelError, MissingFileError
from ctcdecode_kit.vocabulary import Vocabulary

__all__ = ["pyctcdecode_language_model"]

_LN10 = math.log(10.0)


def _detect_case(unigrams: Any) -> str | None:
    upper = sum(1 for w in unigrams if w.isupper())
    lower = sum(1 for w in unigrams if w.islower())
    if upper == lower == 0:
        return None
    return "upper" if upper > lower else "lower"


def pyctcdecode_language_model(
    lm: Any,
    *,
    vocabulary: Vocabulary,
    alpha: float,
    beta: float,
    unk_score_offset: float,
    lm_case: str | None = "auto",
) -> tuple[Any, str | None]:
    """Return (pyctcdecode LanguageModel, letter case the labels must use)."""
    import kenlm
    from pyctcdecode.language_model import LanguageModel, load_unigram_set_from_arpa

    if not vocabulary.has_word_boundaries:
        raise LanguageModelError(
            "a word language model needs a vocabulary with a word delimiter (e.g. '|') or '▁' word prefixes"
        )
    path = Path(lm)
    if not path.is_file():
        raise MissingFileError(f"language model file {str(path)!r} does not exist")
    model = kenlm.Model(str(path))
    unigrams = load_unigram_set_from_arpa(str(path)) if path.suffix == ".arpa" else None
    case = _detect_case(unigrams) if lm_case == "auto" and unigrams else (None if lm_case == "auto" else lm_case)

    class _KenLMWithSentence(LanguageModel):  # type: ignore[misc]
        def sentence_log_prob(self, text: str) -> float:
            mapped = text.lower() if case == "lower" else text.upper() if case == "upper" else text
            return model.score(mapped, bos=True, eos=True) * _LN10

    return (
        _KenLMWithSentence(model, unigrams, alpha=alpha, beta=beta, unk_score_offset=unk_score_offset),
        case,
    )
