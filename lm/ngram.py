"""The native n-gram model: an ARPA file read by the kit's own C++ code (scores equal KenLM's).

:class:`ArpaLM` is what the ``native`` decoder fuses without Python callbacks; it also
serves the :class:`~ctcdecode_kit.lm.LanguageModel` protocol, so it works for rescoring
and in the ``pyctcdecode`` backend too.

Example:
    >>> from ctcdecode_kit.lm import ArpaLM
    >>> lm = ArpaLM("../shared/data/kenlm/test.arpa")                          # doctest: +SKIP
    >>> round(lm.log10_scores(["looking"], eos=False)[0], 6)                   # doctest: +SKIP
    -0.484652
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ctcdecode_kit.errors import FileFormatError, LanguageModelError, MissingFileError, require_native

from .kenlm_model import log10_to_ln

_native = require_native("the native n-gram LM (ArpaLM)")

__all__ = ["ArpaLM"]


class ArpaLM:
    """A word n-gram LM read from an ARPA file by native code (scores equal KenLM's).

    ``path`` may also be a binary image written by :meth:`save_binary` (a fast cache for
    big models). KenLM's own binary format is not read here: give such a file to
    :class:`~ctcdecode_kit.lm.KenLM`, or pass its path as ``lm=`` to a decoder.

    Implements the kit's language-model protocol: ``begin()``, ``score(state, word) ->
    (natural-log prob, new state)``, ``end(state)``, ``order``; states are hashable tuples.
    ``log10_scores(words)`` gives KenLM-style per-word log10 scores.

    Example:
        >>> lm = ArpaLM("../shared/data/kenlm/test.arpa")                      # doctest: +SKIP
        >>> round(lm.log10_scores(["looking"], eos=False)[0], 6)               # doctest: +SKIP
        -0.484652
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(f"language model file {str(path)!r} does not exist")
        try:
            self._model = _native.NgramLM(str(path))
        except ValueError as exc:
            raise FileFormatError(str(exc)) from None
        except RuntimeError as exc:  # the C++ reader could not open or read the file
            raise MissingFileError(str(exc)) from None
        self.path = path

    @property
    def order(self) -> int:
        """The n-gram order."""
        return int(self._model.order)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._model

    def begin(self) -> tuple[int, ...]:
        """The sentence-start state (after ``<s>``)."""
        return self._model.begin_state()

    def score(self, state: tuple[int, ...], word: str) -> tuple[float, tuple[int, ...]]:
        """Natural-log P(word | state) and the next state."""
        log10, new_state = self._model.score_state(state, word)
        return log10_to_ln(log10), new_state

    def end(self, state: tuple[int, ...]) -> float:
        """Natural-log P(``</s>`` | state)."""
        return log10_to_ln(self._model.score_state(state, "</s>")[0])

    def log10_scores(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> list[float]:
        """log10 score of each word (and of ``</s>`` when ``eos``), as kenlm's full_scores."""
        return list(self._model.full_scores(list(words), bos, eos))

    def sentence_log10(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> float:
        """Total log10 score of a sentence, as ``kenlm.Model.score``."""
        return float(self._model.sentence_score(list(words), bos, eos))

    def save_binary(self, path: str | Path) -> Path:
        """Write a binary image of the model, loaded without parsing the ARPA text (for big models).

        ``ArpaLM(path)`` and ``lm=path`` recognise the file by its header.

        Example:
            >>> ArpaLM("big.arpa").save_binary("big.ckbin")                         # doctest: +SKIP
            >>> decoder = build_decoder("native", vocab, lm="big.ckbin")             # doctest: +SKIP
        """
        path = Path(path)
        try:
            self._model.save_binary(str(path))
        except RuntimeError as exc:  # the C++ writer failed
            raise LanguageModelError(f"could not write the binary LM {str(path)!r}: {exc}") from None
        return path

    def listed_unigrams(self) -> list[str]:
        """Unigrams written with a backoff (the set pyctcdecode uses for OOV and prefix checks)."""
        return list(self._model.listed_unigrams())

    @property
    def vocab_size(self) -> int:
        """Number of words in the model, ``<s>``, ``</s>`` and ``<unk>`` included."""
        return int(self._model.vocab_size)

    def __repr__(self) -> str:
        return f"ArpaLM({str(self.path)!r}, order={self.order})"
