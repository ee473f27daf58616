"""Turn what a user passes as ``lm=`` (a path or an object) into a checked :class:`LanguageModel`.

Example:
    >>> from ctcdecode_kit.lm import NullLM
    >>> load_language_model(NullLM())
    NullLM()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .casing import check_case, detect_case
from .protocol import LanguageModel, check_language_model

__all__ = ["load_language_model", "resolve_lm_case"]


def load_language_model(lm: Any, *, case: str | None = "auto") -> LanguageModel:
    """A path (str or Path) becomes a :class:`~ctcdecode_kit.lm.KenLM` (with ``case``);
    an object is checked with :func:`~ctcdecode_kit.lm.check_language_model`."""
    if isinstance(lm, (str, Path)):
        from .kenlm_model import KenLM

        return KenLM(lm, case=case)
    return check_language_model(lm)


def resolve_lm_case(lm: LanguageModel, lm_case: str | None = "auto") -> str | None:
    """The case a decoder must give ``lm`` its words in.

    ``lm_case`` other than ``"auto"`` wins. With ``"auto"``: the LM's own ``case``
    attribute (``KenLM`` and ``CausalLM`` have one), else the case of its ``unigrams``,
    else None (words are passed in the acoustic vocabulary's case).

    Example:
        >>> from ctcdecode_kit.lm import NullLM
        >>> resolve_lm_case(NullLM()), resolve_lm_case(NullLM(), "lower")
        (None, 'lower')
    """
    check_case(lm_case, "lm_case")
    if lm_case != "auto":
        return lm_case
    own = getattr(lm, "case", None)
    if own in ("lower", "upper"):
        return own
    unigrams = getattr(lm, "unigrams", None)
    if unigrams:
        return detect_case(unigrams)
    return None
