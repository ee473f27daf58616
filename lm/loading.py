"""Turn what a user passes as ``lm=`` (a path or an object) into a checked :class:`LanguageModel`.

A path is loaded through the process-wide cache (:func:`ctcdecode_kit.lm.load_lm`), so
the same file is read once per process however many decoders use it.

:func:`portable_language_model` and :func:`restore_language_model` carry a loaded LM to
a worker process: a :class:`~ctcdecode_kit.lm.KenLM` travels as its file path (the
worker loads the file again), any other LM is pickled whole.

Example:
    >>> from ctcdecode_kit.lm import NullLM
    >>> load_language_model(NullLM())
    NullLM()
    >>> restore_language_model(portable_language_model(NullLM()))
    NullLM()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .casing import check_case, detect_case
from .protocol import LanguageModel, check_language_model

__all__ = ["KenLMSource", "load_language_model", "portable_language_model", "resolve_lm_case", "restore_language_model"]


def load_language_model(lm: Any, *, case: str | None = "auto") -> LanguageModel:
    """A path (str or Path) becomes a :class:`~ctcdecode_kit.lm.KenLM` (with ``case``), loaded
    once per process (:func:`~ctcdecode_kit.lm.load_lm`); an object is checked with
    :func:`~ctcdecode_kit.lm.check_language_model`.

    Example:
        >>> lm = load_language_model("../shared/data/kenlm/test.arpa")
        >>> lm is load_language_model("../shared/data/kenlm/test.arpa"), type(lm).__name__
        (True, 'KenLM')
    """
    if isinstance(lm, (str, Path)):
        from .cache import load_lm

        return load_lm(lm, "kenlm", case=case)  # type: ignore[no-any-return]
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


@dataclass(frozen=True)
class KenLMSource:
    """What another process needs to load the same :class:`~ctcdecode_kit.lm.KenLM` again.

    Small and picklable (a path, the resolved case and the unigram list), unlike the
    loaded model. :meth:`load` skips the full ARPA check (the file was checked when it
    was first loaded) and goes through the process-wide cache: a worker process loads
    the file once, however many decoders send it.
    """

    path: str
    case: str | None
    unigrams: tuple[str, ...] | None

    def load(self) -> LanguageModel:
        """Load the model from ``path`` (once per process)."""
        from .cache import load_lm

        return load_lm(self.path, "kenlm", case=self.case, unigrams=self.unigrams, validate=False)  # type: ignore[no-any-return]


def portable_language_model(lm: LanguageModel) -> Any:
    """A picklable stand-in for a loaded LM, to send to a worker process.

    A :class:`~ctcdecode_kit.lm.KenLM` becomes a :class:`KenLMSource` (its path); any
    other LM is returned as it is and must pickle on its own. Undo with
    :func:`restore_language_model`.
    """
    from .kenlm_model import KenLM

    if type(lm) is KenLM:
        unigrams = tuple(lm.unigrams) if lm.unigrams is not None else None
        return KenLMSource(str(lm.path), lm.case, unigrams)
    return lm


def restore_language_model(portable: Any) -> LanguageModel:
    """The LM behind what :func:`portable_language_model` returned."""
    if isinstance(portable, KenLMSource):
        return portable.load()
    return portable  # type: ignore[no-any-return]
