"""Does the language model fit the vocabulary and the references? OOV rate and mismatch warnings.

"The LM made it worse" is often no fault of the LM but of a mismatch between its words and
what the acoustic model writes (NeMo#7472, transformers#15236). :func:`lm_diagnostics`
reads the LM's word list (:func:`read_lm_vocabulary`, through :mod:`ctcdecode_kit.lm`)
and reports:

* the OOV rate: the share of reference words (normalised, mapped to the LM's letter case
  as the decoders map them) that are not LM unigrams;
* warnings (plain sentences) for: letter case (LM words in a case the decoder never
  produces, or a mixed-case vocabulary against a one-case LM), punctuation or digits in
  the LM that the vocabulary cannot write (or characters the vocabulary writes that no
  LM word holds), a character-level LM used as a word LM, and an LM without ``<unk>``.

Example:
    >>> from ctcdecode_kit import Vocabulary
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B", "'"], blank="<pad>", word_delimiter="|")
    >>> lm = LMVocabulary(words=frozenset({"ab", "ba", "a,b"}), has_unk=False)
    >>> for line in vocabulary_warnings(lm, vocab): print(line[:50])
    the LM has no <unk>: every word outside its vocabu
    punctuation: 1 of 3 LM words (33.3%) hold characte
    punctuation: the vocabulary writes "'" but no LM w
    >>> round(oov_rate([["AB", "AC"]], lm), 2)
    0.5
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, LanguageModelError, MissingFileError

__all__ = [
    "LMDiagnostics",
    "LMVocabulary",
    "lm_diagnostics",
    "oov_masks",
    "oov_rate",
    "read_lm_vocabulary",
    "vocabulary_warnings",
]

_MARKERS = frozenset({"<s>", "</s>", "<unk>", "<UNK>"})
_SHARE = 0.005  # a mismatch is reported when at least this share of LM words shows it
_EXAMPLES = 4


@dataclass(frozen=True)
class LMVocabulary:
    """An LM's words (``<s>``, ``</s>``, ``<unk>`` left out) and whether it has ``<unk>`` (None: unknown)."""

    words: frozenset[str]
    has_unk: bool | None = None
    source: str = ""

    @functools.cached_property
    def case(self) -> str | None:
        """``"lower"``/``"upper"``: the case most LM words are in (None: no cased words); detected once."""
        from ctcdecode_kit.lm.casing import detect_case

        return detect_case(self.words)

    def to_lm_case(self, word: str) -> str:
        """``word`` as the decoders look it up: mapped to the LM's case."""
        from ctcdecode_kit.lm.casing import apply_case

        return apply_case(word, self.case)


def read_lm_vocabulary(lm: Any) -> LMVocabulary:
    """The word list of ``lm``: an ARPA file (its ``\\1-grams:`` section), a binary the kit reads
    (:class:`~ctcdecode_kit.lm.ArpaLM`'s unigrams), or an object with ``listed_unigrams()`` or
    ``unigrams``.

    ``<unk>`` is found by scoring it: an LM without it gives KenLM's -100 (log10).

    Raises:
        MissingFileError: the file is not there.
        FileFormatError / LanguageModelError: the file cannot be read as an LM.
        LanguageModelError: an object that does not list its words.

    Example:
        >>> from ctcdecode_kit.default import default_assets
        >>> v = read_lm_vocabulary(default_assets().lm_path)
        >>> len(v.words), v.has_unk, v.case
        (9732, True, 'lower')
    """
    if isinstance(lm, (str, Path)):
        from ctcdecode_kit.lm import ArpaLM, inspect_arpa

        path = Path(lm).expanduser()
        if not path.is_file():
            raise MissingFileError(f"language model file {str(path)!r} does not exist")
        model = ArpaLM(path)
        if model.binary_path is not None and model.binary_path.resolve() == path.resolve():
            words: Iterable[str] = model.listed_unigrams()
        else:
            words = inspect_arpa(path, validate=False).unigrams
        unk = model.log10_scores(["<unk>"], bos=False, eos=False)[0]
        return LMVocabulary(frozenset(w for w in words if w not in _MARKERS), bool(unk > -99.0), str(path))
    listed = getattr(lm, "listed_unigrams", None)
    words = listed() if callable(listed) else getattr(lm, "unigrams", None)
    if words is None:
        raise LanguageModelError(f"the language model {type(lm).__name__} does not list its words; no OOV rate")
    return LMVocabulary(frozenset(w for w in words if w not in _MARKERS), None, type(lm).__name__)


def oov_masks(refs: Sequence[Sequence[str]], lm: LMVocabulary) -> list[np.ndarray]:
    """Per utterance, a bool array over its reference words: True where the word is not in the LM."""
    words = lm.words
    return [np.array([lm.to_lm_case(w) not in words for w in ref], dtype=bool) for ref in refs]


def oov_rate(refs: Sequence[Sequence[str]], lm: LMVocabulary) -> float:
    """Share of reference word tokens that are not LM words (0.0 for no words)."""
    masks = oov_masks(refs, lm)
    total = sum(m.size for m in masks)
    return float(sum(int(m.sum()) for m in masks) / total) if total else 0.0


def _vocabulary_chars(vocabulary: Any) -> set[str]:
    tokens = vocabulary.tokens
    skip = set(vocabulary.special) | {vocabulary.blank}
    if vocabulary.word_delimiter is not None:
        skip.add(vocabulary.word_delimiter)
    return {ch for i, t in enumerate(tokens) if i not in skip for ch in t.replace("\u2581", "")}


def _examples(words: Iterable[str]) -> str:
    shown = sorted(words, key=lambda w: (len(w), w))[:_EXAMPLES]
    return ", ".join(repr(w) for w in shown)


def _share(count: int, total: int) -> str:
    return f"{count} of {total} LM words ({100 * count / total:.1f}%)"


def vocabulary_warnings(lm: LMVocabulary, vocabulary: Any | None) -> list[str]:
    """Mismatches between the LM's words and what the vocabulary can write (see the module docs)."""
    warnings: list[str] = []
    words = lm.words
    total = len(words)
    if lm.has_unk is False:
        warnings.append(
            "the LM has no <unk>: every word outside its vocabulary scores -100 (log10), so a hypothesis holding a "
            "new word (a name, a rare word) loses to almost anything; rebuild it with <unk> (lmplz and "
            "`ctcdecode-kit lm build` write one)"
        )
    if total == 0:
        warnings.append("the LM lists no words; it cannot help a word decoder")
        return warnings
    single = sum(1 for w in words if len(w) == 1)
    if single / total >= 0.5:
        warnings.append(
            f"the LM looks character-level: {_share(single, total)} are single characters; the decoders fuse "
            f"it as a word LM, so nearly every word is out of its vocabulary"
        )
    case = lm.case
    if case is not None:
        off = [w for w in words if w != lm.to_lm_case(w)]
        if off and len(off) / total >= _SHARE:
            warnings.append(
                f"letter case: {_share(len(off), total)} are not {case}-case (e.g. {_examples(off)}); the decoders "
                f"map every word to {case} case, so these words are never matched"
            )
    if vocabulary is None:
        return warnings
    chars = _vocabulary_chars(vocabulary)
    if case is not None and getattr(vocabulary, "letter_case", None) == "mixed":
        warnings.append(
            f"letter case: the vocabulary writes both cases but the LM is {case}-case; words are mapped to {case} "
            f"case before the LM sees them, and case in the output is not the LM's"
        )
    folded = {ch.lower() for ch in chars} | {ch.upper() for ch in chars}
    punct_in_lm = [w for w in words if any(not ch.isalnum() and ch not in folded for ch in w)]
    if punct_in_lm and len(punct_in_lm) / total >= _SHARE:
        marks = Counter(ch for w in punct_in_lm for ch in w if not ch.isalnum() and ch not in folded)
        warnings.append(
            f"punctuation: {_share(len(punct_in_lm), total)} hold characters the vocabulary cannot write "
            f"({' '.join(repr(c) for c, _ in marks.most_common(6))}; e.g. {_examples(punct_in_lm)}): the LM text "
            f"was not normalised like the transcripts, and those words are never matched"
        )
    lm_chars = {ch for w in words for ch in w}
    for ch in sorted(c for c in chars if not c.isalnum() and not c.isspace()):
        if ch not in lm_chars:
            warnings.append(
                f"punctuation: the vocabulary writes {ch!r} but no LM word holds it: every word the model spells "
                f"with it is out of the LM's vocabulary"
            )
    vocab_digits = any(ch.isdigit() for ch in chars)
    digit_words = [w for w in words if any(ch.isdigit() for ch in w)]
    if digit_words and not vocab_digits and len(digit_words) / total >= _SHARE:
        warnings.append(
            f"digits: {_share(len(digit_words), total)} hold digits (e.g. {_examples(digit_words)}) but the "
            f"vocabulary writes none: numbers are spelled out in the transcripts and written as digits in the LM"
        )
    if vocab_digits and not digit_words:
        warnings.append(
            "digits: the vocabulary writes digits but no LM word holds one: every number the model writes is out of "
            "the LM's vocabulary"
        )
    return warnings


@dataclass(frozen=True)
class LMDiagnostics:
    """What :func:`lm_diagnostics` found: the OOV rate (None: no LM, or its words could not be read),
    the OOV words by frequency, the warnings and per-utterance OOV masks."""

    lm: str | None
    oov_rate: float | None
    warnings: list[str]
    oov_words: list[tuple[str, int]] = field(default_factory=list)
    masks: list[np.ndarray] | None = None
    lm_words: int | None = None
    has_unk: bool | None = None
    case: str | None = None


def lm_diagnostics(
    lm: Any, vocabulary: Any | None, refs: Sequence[Sequence[str]], *, recorded_path: str | None = None
) -> LMDiagnostics:
    """OOV rate, OOV words and warnings of ``lm`` (a path, an LM object or None) against ``refs``.

    A path that is no longer there gives no OOV rate and a warning saying the file has moved
    (``recorded_path``, the absolute path the run saw, is tried before giving up). A file or
    object whose words cannot be read gives a warning saying why.

    Example:
        >>> d = lm_diagnostics("/nowhere/lm.arpa", None, [["A"]])
        >>> d.oov_rate is None, "is no longer there" in d.warnings[0]
        (True, True)
    """
    if lm is None:
        return LMDiagnostics(None, None, [])
    name = str(lm) if isinstance(lm, (str, Path)) else type(lm).__name__
    if isinstance(lm, (str, Path)) and not Path(lm).expanduser().is_file():
        if recorded_path and Path(recorded_path).is_file():
            lm = recorded_path
        else:
            moved = (f"the LM file {name!r} is no longer there (moved or deleted since the run); the OOV rate and "
                     f"the LM checks are left out")
            return LMDiagnostics(name, None, [moved])
    try:
        words = read_lm_vocabulary(lm)
    except (MissingFileError, FileFormatError, LanguageModelError) as exc:
        return LMDiagnostics(name, None, [f"the LM's words could not be read ({exc}); the OOV rate is left out"])
    masks = oov_masks(refs, words)
    total = sum(m.size for m in masks)
    rate = float(sum(int(m.sum()) for m in masks) / total) if total else 0.0
    counts: Counter = Counter(w for ref, m in zip(refs, masks) for w, out in zip(ref, m) if out)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return LMDiagnostics(
        name, rate, vocabulary_warnings(words, vocabulary), ranked, masks, len(words.words), words.has_unk, words.case
    )
