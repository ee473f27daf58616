"""KenLM n-gram models (ARPA text or KenLM binary) behind the :class:`LanguageModel` protocol.

KenLM reports log10 probabilities; :func:`log10_to_ln` is the one place in the kit where
they become natural logs. ARPA files are checked in Python first (see
:mod:`ctcdecode_kit.lm.arpa`) so that a corrupt file fails with the line number instead
of KenLM's opaque abort; the unigram list is read in full from the ``\\1-grams:``
section (or from the vocabulary KenLM stores at the end of a binary file).

Loading cost: LibriSpeech's ``3-gram.pruned.arpa`` (3.7 MB, 200,003 unigrams) takes
about 0.15 s (Python check + KenLM parse); an 18.8 MB ARPA file about 0.5 s. Convert
big ARPA files to KenLM binary with ``build_binary`` to load them in milliseconds
(see ``lm/recipes/README.md``).

Example:
    >>> lm = KenLM("../shared/data/kenlm/test.arpa")                     # doctest: +SKIP
    >>> round(lm.score(lm.begin(), "looking")[0] / math.log(10), 7)     # doctest: +SKIP
    -0.4846522
    >>> lm.word_scores("looking on")                                   # doctest: +SKIP
    [('looking', -1.1159...), ('on', -0.8032...), ('</s>', ...)]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ctcdecode_kit.errors import LanguageModelError, MissingFileError, install_command

from .arpa import SENTENCE_MARKERS, ArpaFormatError, inspect_arpa, is_kenlm_binary
from .casing import case_mapper, check_case, detect_case, probe_case
from .protocol import LanguageModelBase

__all__ = ["LN10", "KenLM", "log10_to_ln"]

LN10 = math.log(10.0)
"""ln(10): multiply a log10 score by it to get a natural-log score."""


def log10_to_ln(log10_score: float) -> float:
    """Convert a KenLM log10 score to a natural-log score (the only conversion in the kit).

    Example:
        >>> round(log10_to_ln(-1.0), 6)
        -2.302585
    """
    return log10_score * LN10


def _read_binary_vocabulary(path: Path) -> tuple[str, ...] | None:
    """The words KenLM stores, NUL-separated, at the end of a binary model (best effort)."""
    size = path.stat().st_size
    window = 1 << 20
    with open(path, "rb") as f:
        while True:
            start = max(0, size - window)
            f.seek(start)
            tail = f.read()
            at = tail.rfind(b"<unk>\x00")
            if at >= 0:
                words = [w.decode("utf-8", "surrogateescape") for w in tail[at:].rstrip(b"\x00").split(b"\x00")]
                if "<s>" in words and "</s>" in words:
                    return tuple(w for w in words if w not in SENTENCE_MARKERS)
            if start == 0:
                return None
            window *= 8


def _kenlm_reason(exc: BaseException) -> str:
    """The useful part of KenLM's C++ exception text (after 'threw ...Exception.')."""
    text = " ".join(str(exc).split())
    marker = "Exception."
    if marker in text:
        text = text.split(marker, 1)[1].strip().rstrip(")")
    return text or type(exc).__name__


def _read_word_list(source: Iterable[str] | str | Path) -> tuple[str, ...]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise MissingFileError(f"unigram list {str(path)!r} does not exist")
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        words = [line.split()[0] for line in text.splitlines() if line.strip()]
    else:
        words = [str(w) for w in source]
    return tuple(w for w in words if w not in SENTENCE_MARKERS)


def _kenlm_module() -> Any:
    """The ``kenlm`` package, or None when it is not installed (the native engine is used)."""
    try:
        import kenlm
    except ImportError:
        return None
    return kenlm


def _native_engine(path: Path) -> Any:
    """The kit's native reader of ``path``; a file only the kenlm package reads names its extra."""
    from .ngram import ArpaLM

    try:
        return ArpaLM(path)
    except LanguageModelError as exc:
        raise LanguageModelError(
            f"{exc} (the kenlm package reads it: {install_command('kenlm')})"
        ) from exc


class KenLM(LanguageModelBase):
    """An ARPA or KenLM-binary n-gram model with KenLM's scores.

    Scored through the ``kenlm`` package when it is installed (``pip install
    'ctcdecode-kit[kenlm]'``), else through the kit's own native reader
    (:class:`~ctcdecode_kit.lm.ArpaLM`, the same scores bit for bit, tested on every
    shared ARPA and KenLM binary); ``engine`` says which. The native reader does not read
    KenLM's ``rest_probing`` binaries: those need the ``kenlm`` package.

    Args:
        path: ``.arpa`` (plain or gzipped) or a KenLM binary file.
        case: the case words are mapped to before scoring: ``"auto"`` (detect from the
            unigrams: a lowercase LM gets lowercased words, so wav2vec2's UPPERCASE text
            is scored properly), ``"lower"``, ``"upper"``, or None (no mapping).
        unigrams: the model's word list, for a binary file whose stored vocabulary
            cannot be read (a list of words, or a path to a file with one word per line);
            by default read from the ARPA ``\\1-grams:`` section or the binary's vocabulary.
        validate: check the whole ARPA file before KenLM loads it (default); False
            reads only its header and unigrams.

    Attributes:
        order: the n-gram order.
        unigrams: the words of the model (without ``<s>``, ``</s>``, ``<unk>``) in the
            model's own case, or None when unknown.
        case: the resolved case (``"lower"``, ``"upper"`` or None).
        path: the file.

        engine: ``"kenlm"`` (the kenlm package) or ``"native"`` (the kit's reader).

    Scores are natural logs; states are hashable (``kenlm.State`` objects, or tuples of
    word ids with the native engine).
    """

    _ctcdecode_kit_trusted = True

    def __init__(
        self,
        path: str | Path,
        *,
        case: str | None = "auto",
        unigrams: Iterable[str] | str | Path | None = None,
        validate: bool = True,
    ) -> None:
        check_case(case)
        self._kenlm: Any = _kenlm_module()
        self.engine: str = "kenlm" if self._kenlm is not None else "native"
        self.path = Path(path)
        if not self.path.exists():
            raise MissingFileError(f"language model file {str(self.path)!r} does not exist")
        if self.path.is_dir():
            raise ArpaFormatError(
                f"language model path {str(self.path)!r} is a folder; expected an ARPA or KenLM binary file"
            )
        binary = is_kenlm_binary(self.path)
        if binary:
            words = _read_binary_vocabulary(self.path)
        else:
            info = inspect_arpa(self.path, validate=validate)
            if info.order < 2:
                raise LanguageModelError(
                    f"language model {str(self.path)!r} is a unigram model (order 1); KenLM needs at least a "
                    f"bigram model. Rebuild it with order >= 2 (e.g. build_arpa(..., order=2))"
                )
            words = info.unigrams
        if unigrams is not None:
            words = _read_word_list(unigrams)
        if self._kenlm is None:
            self._model: Any = _native_engine(self.path)
        else:
            config = self._kenlm.Config()
            config.show_progress = False
            try:
                self._model = self._kenlm.Model(str(self.path), config)
            except (OSError, RuntimeError) as exc:  # what the kenlm module raises for a file it cannot load
                kind = "KenLM binary" if binary else "ARPA"
                raise LanguageModelError(
                    f"KenLM could not load the {kind} file {str(self.path)!r}: {_kenlm_reason(exc)}"
                ) from exc
        self.order: int = int(self._model.order)
        if self.order < 1:
            raise LanguageModelError(f"language model {str(self.path)!r} has order {self.order}; expected >= 1")
        self.unigrams: tuple[str, ...] | None = words
        if case == "auto":
            resolved = detect_case(words) if words else probe_case(self._model.__contains__)
        else:
            resolved = case
        self.case: str | None = resolved
        self._map = case_mapper(resolved)

    # ------------------------------------------------------------------ protocol
    def begin(self) -> Hashable:
        if self._kenlm is None:
            return self._model.begin()
        state = self._kenlm.State()
        self._model.BeginSentenceWrite(state)
        return state

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        if self._map is not None:
            word = self._map(word)
        if self._kenlm is None:
            return self._model.score(state, word)
        out = self._kenlm.State()
        return log10_to_ln(self._model.BaseScore(state, word, out)), out

    def end(self, state: Hashable) -> float:
        if self._kenlm is None:
            return self._model.end(state)
        out = self._kenlm.State()
        return log10_to_ln(self._model.BaseScore(state, "</s>", out))

    # ------------------------------------------------------------------ helpers
    def score_sentence(self, words: Sequence[str] | str) -> float:
        """Natural-log probability of a sentence, ``<s>`` and ``</s>`` included.

        ``words`` is a list of words or a string split on whitespace.
        """
        text = " ".join(words.split() if isinstance(words, str) else words)
        if self._map is not None:
            text = self._map(text)
        if self._kenlm is None:
            return log10_to_ln(self._model.sentence_log10(text.split()))
        return log10_to_ln(self._model.score(text, bos=True, eos=True))

    def __contains__(self, word: object) -> bool:
        """Whether the model knows ``word`` (after case mapping)."""
        if not isinstance(word, str):
            return False
        return (self._map(word) if self._map is not None else word) in self._model

    def __repr__(self) -> str:
        size = "?" if self.unigrams is None else len(self.unigrams)
        return f"KenLM({str(self.path)!r}, order={self.order}, unigrams={size}, case={self.case!r}, engine={self.engine!r})"
