"""Native (C++) CTC beam search with n-gram LM fusion: pyctcdecode's answers, much faster.

:class:`NativeDecoder` reproduces pyctcdecode 0.5's beam search step by step (same
candidate tokens per frame, beam merging, word-boundary and partial-word LM scores,
``beam_prune_logp``, ``prune_history``, end-of-sentence scoring, hotwords), so its n-best
lists, scores and word frames match pyctcdecode's; it runs in compiled code with interned
prefixes and cached LM states, and decodes a batch on ``num_workers`` threads with the GIL
released (30-70x faster than pyctcdecode single-threaded, see benchmarks/RESULTS.md).

``lm=`` takes a path to an ARPA file (read by the native :class:`ArpaLM`, scores equal to
KenLM's; also a :meth:`ArpaLM.save_binary` image), an :class:`ArpaLM`, a
:class:`ctcdecode_kit.lm.KenLM` over an ARPA file (read natively), or any
:class:`ctcdecode_kit.lm.LanguageModel` (called back with the GIL held; slower).
``lm_rules`` picks the fusion rules for an ARPA file: ``"kit"`` (default: the rules of
:class:`ctcdecode_kit.lm.PyctcdecodeLM`, which the ``"pyctcdecode"`` backend uses, so both
backends give the same answers; every unigram counts as known) or ``"pyctcdecode"`` (the
pyctcdecode library's own KenLM rules, exactly, including its quirk that only unigrams
written with a backoff are known: on the LibriSpeech 3-gram that makes the LM *hurt*,
28 % vs 3 % WER in benchmarks/RESULTS.md; ``unigrams=`` gives the known words instead, as
pyctcdecode's ``LanguageModel(unigrams=...)``, and ``score_boundary=False`` its
``score_boundary``). Python language models always use the kit's rules.

Speed levers, all off by default because they may change answers: ``token_top_k``
(at most k candidate tokens per frame), ``blank_skip_threshold`` (a frame whose argmax is
the blank with at least this probability is decoded as blank-only), a tighter
``beam_prune_logp``, ``prune_history``; ``lm_cache`` (on) caches LM scores per (state, word).

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> logits = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]]))
    >>> build_decoder("native", vocab, beam_width=10).decode(logits)[0][0].text
    'AB'
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..decoder import DecoderBase, register_decoder
from ..errors import FileFormatError, InputError, LanguageModelError, MissingFileError, require_native
from ..hypothesis import Hypothesis, Word
from ..inputs import LogProbBatch, check_finite_number, check_lengths, check_positive_int
from ..alignment import align_text
from ..labels import MAX_BEAM_WIDTH, beam_labels, strip_private
from ..lexicon import Lexicon, as_lexicon
from ..lm.cache import derived
from ..lm.casing import apply_case, detect_case
from ..lm.fitting import check_vocabulary_fits
from ..lm.kenlm_model import log10_to_ln
from ..lm.protocol import CheckedLanguageModel, lm_name
from ..vocabulary import Vocabulary

_native = require_native("the native decoder")

from ..lm.ngram import ArpaLM, reads_natively

__all__ = ["ArpaLM", "NativeDecoder"]


def _usable(x: np.ndarray, refuse_probs: bool) -> bool:
    """No NaN, no +inf, no all--inf frame (and, with ``refuse_probs``, not probabilities)."""
    if not np.isfinite(x).all():
        if np.isnan(x).any() or np.isposinf(x).any() or np.isneginf(x).all(axis=-1).any():
            return False
    if refuse_probs and x.min() >= 0 and x.max() <= 1 and bool((np.abs(x.sum(axis=-1) - 1) < 1e-3).all()):
        return False
    return True


def _native_twin(lm: Any) -> ArpaLM | None:
    """An :class:`ArpaLM` equivalent to a ``ctcdecode_kit.lm.KenLM`` over an ARPA file or a KenLM binary read natively, else None."""
    if type(lm).__name__ != "KenLM" or not type(lm).__module__.startswith("ctcdecode_kit.lm"):
        return None
    path, unigrams = getattr(lm, "path", None), getattr(lm, "unigrams", None)
    if not isinstance(path, Path) or not path.is_file() or unigrams is None or _kenlm_only(path):
        return None
    from ..lm.cache import load_lm

    try:
        twin = load_lm(path, "native")  # once per process, shared with lm=path decoders
    except (InputError, LanguageModelError, FileNotFoundError, ValueError):
        return None
    # The kit's unigram list is every word but <s>, </s>, <unk>; a custom list keeps the callbacks.
    if len(unigrams) != twin.vocab_size - 3 or twin.order != lm.order:
        return None
    return twin


class _ArpaWords:
    """An :class:`ArpaLM`'s words (all but ``<s>``, ``</s>``, ``<unk>``) as ``unigrams``, for :func:`check_vocabulary_fits`."""

    def __init__(self, lm: ArpaLM) -> None:
        self.order = lm.order
        self.unigrams = tuple(lm._model.all_unigrams())


def _fit_subject(lm: ArpaLM) -> CheckedLanguageModel:
    """What :func:`check_vocabulary_fits` reads for ``lm`` (its words, named as ``lm``), kept as long as ``lm``.

    The check caches its count per subject, so decoders sharing a loaded LM (``lm=path``,
    ``with_options``) list and check its words once.
    """
    return derived(lm, "native: vocabulary fit subject", lambda: CheckedLanguageModel(_ArpaWords(lm), lm_name(lm)))


class _CalledBackLM(CheckedLanguageModel):
    """A Python LM as one decode call's search calls it back.

    :class:`~ctcdecode_kit.lm.protocol.CheckedLanguageModel`'s checks and messages (naming
    the LM and the word, chained from the LM's own exception), as the other backends give,
    except that ``-inf`` stays a valid score and states need not be hashable (the native
    search never hashes them). The first failure is kept in ``failure``: the C++ side only
    sees that a callback failed, and :meth:`NativeDecoder.decode` raises this instead.
    """

    def __init__(self, inner: object, name: str) -> None:
        super().__init__(inner, name)
        self.failure: LanguageModelError | None = None

    def _logp(self, value: Any, what: str, word: str | None) -> float:
        if isinstance(value, (float, np.floating)) and value == -math.inf:
            return -math.inf
        return super()._logp(value, what, word)

    def _state(self, state: Any, what: str, word: str | None) -> Any:
        return state

    def _kept(self, exc: LanguageModelError) -> LanguageModelError:
        if self.failure is None:
            self.failure = exc
        return exc

    def begin(self) -> Any:
        try:
            return super().begin()
        except LanguageModelError as exc:
            raise self._kept(exc)

    def score(self, state: Any, word: str) -> tuple[float, Any]:
        try:
            return super().score(state, word)
        except LanguageModelError as exc:
            raise self._kept(exc)

    def end(self, state: Any) -> float:
        try:
            return super().end(state)
        except LanguageModelError as exc:
            raise self._kept(exc)


def _kenlm_only(path: Path) -> bool:
    """Whether only the ``kenlm`` package reads ``path`` (a ``rest_probing`` KenLM binary, another format version)."""
    return not reads_natively(path)


class NativeDecoder(DecoderBase):
    """pyctcdecode-compatible beam search in C++ (optionally with an n-gram LM).

    Args:
        vocabulary: output vocabulary.
        beam_width: beams kept per frame (1..10000).
        lm: None, a path to an ARPA file (or an :meth:`ArpaLM.save_binary` image), an
            :class:`ArpaLM`, or any :class:`ctcdecode_kit.lm.LanguageModel` (``begin`` /
            ``score`` / ``end``, natural logs), called back with the GIL held. A
            :class:`ctcdecode_kit.lm.KenLM` over a plain ARPA file is read natively instead
            (same scores, no callbacks); gzip, bzip2 and xz ARPA files are read natively too, and
            so are KenLM ``build_binary`` files of the ``probing`` and ``trie`` types, quantised
            or not (mapped in place, KenLM's scores). A ``rest_probing`` KenLM file is loaded as
            :class:`ctcdecode_kit.lm.KenLM`
            (needs the ``kenlm`` package) and called back: same answers, but every new (state, word)
            pair costs a Python call (1.6-1.7x the time of a native LM, benchmarks/RESULTS.md).
        alpha: LM weight; beta: bonus per word; unk_score_offset: log10 offset for a word
            outside the LM's unigram set (pyctcdecode's units).
        hotwords: words to boost by ``hotword_weight`` (matched in the LM's letter case;
            None or () for none).
        beam_prune_logp: drop beams this far below the best (log).
        token_min_logp: tokens below this log-prob are skipped unless they are a frame's argmax.
        prune_history: keep one beam per (last LM-order - 1 words, partial word, last token),
            as pyctcdecode's option of the same name (faster, less diverse n-best).
        token_top_k: at most this many candidate tokens per frame (None: no limit).
        blank_skip_threshold: decode a frame as blank-only when the blank is its argmax with at
            least this probability (None: off).
        lm_cache: cache LM scores per (LM state, word) within an utterance.
        lm_rules: how an ARPA LM is fused. "kit" (default) fuses like
            :class:`ctcdecode_kit.lm.PyctcdecodeLM` (and so like the "pyctcdecode" backend):
            every unigram is known, the offset is added unweighted, no empty word.
            "pyctcdecode" is the pyctcdecode library with its KenLM wrapper, exactly: only
            unigrams written with a backoff count as known, ``unk_score_offset`` is a log10
            offset weighted by alpha, and a hypothesis that ends in a delimiter is scored as
            ending in an empty unknown word. A Python LM always uses "kit" rules. The rules
            also pick which word frames a hypothesis reports when beams with the same text
            merge: "kit" keeps the frames (and tokens) of the merged beam with the best single
            path, so ``Word`` frames are the half-open span of the word's tokens on the
            hypothesis' best alignment, as greedy's are; "pyctcdecode" keeps pyctcdecode's
            (those of the last beam merged, which can end a frame early).
            An LM whose words the vocabulary cannot spell is refused (and one it can rarely spell
            warned about) by :func:`ctcdecode_kit.lm.fitting.check_vocabulary_fits`, except a
            native LM under "pyctcdecode" rules, which, like the library, takes any LM.
        unigrams: the known words under ``lm_rules="pyctcdecode"`` with a native LM, as
            pyctcdecode's ``LanguageModel(unigrams=...)`` (a Hub repo's
            ``language_model/unigrams.txt``): an iterable of words, or a path (str or Path) to a
            UTF-8 file of one word per line (lines taken as they are). Words the LM does not
            contain are dropped first, as pyctcdecode does. A word outside the list costs
            ``unk_score_offset``, and so does a partial word that starts no word of the list; an
            empty list (after dropping) counts every LM word as known and every partial word as
            unknown. None (default): the LM's unigrams written with a backoff (pyctcdecode's
            ``build_ctcdecoder`` default for an ARPA file; every word of a KenLM binary). Words are
            matched as the LM spells them. Not used by the kit's rules (every LM word is known),
            by a Python LM, or with a lexicon.
        score_boundary: pyctcdecode's ``score_boundary``: True (default) scores the first word
            after ``<s>`` and ends with ``</s>``; False starts from the LM's null context and
            scores no ``</s>`` (also in ``Hypothesis.lm_score``). False needs a native LM.
        lm_case: "lower"/"upper" to force the LM's case, "auto" to detect it, None to keep.
        num_workers: threads for a batch (None: one per available core; 1: serial).
        frame_rate, input_type, nbest: see :class:`~ctcdecode_kit.decoder.DecoderBase`.
        lexicon: restrict the output to a lexicon's words: a lexicon file (``word tok tok ...``
            per line, flashlight's format), a ``dict`` word -> pronunciations or a
            :class:`~ctcdecode_kit.lexicon.Lexicon`. The search walks a trie over token ids;
            the word delimiter (or the end) ends a word, and the LM is fused there (the kit's
            rules). Needs a vocabulary with a word delimiter; no hotwords, no prune_history.
            Every beam may take the blank or repeat its last token on any frame, and a token the
            lexicon allows next (the word's next token, or the delimiter) is tried below
            ``token_min_logp`` (or outside ``token_top_k``) when it keeps the beam within
            ``beam_prune_logp`` of the best one: a pronunciation that differs from the audio
            costs the scores of its odd tokens instead of the rest of the utterance.
        unknown_word_score: None (default): only lexicon words. A number: an out-of-lexicon
            word may be spelled freely and costs this (natural log) on top of its LM score.
        lm_lookahead: with a lexicon and an LM, a partial word carries the best score of the
            words it can still become after ``<s>`` (flashlight's "smearing"), replaced at the
            word's end. Off by default: on the noisy real-logits batch it was mixed (8.5-9.9 %
            without, 8.1-10.7 % with; benchmarks/RESULTS.md "Lexicon decoding"); it prunes harder.

    With a lexicon, ``Hypothesis.text`` is the lexicon's words (for a phoneme model, words,
    not phonemes; for a spelled lexicon, ``vocabulary.text(tokens)``) and ``tokens`` the
    token ids emitted.

    ``Hypothesis.tokens`` are the token ids the search emitted (collapsed, blanks removed),
    and ``text`` is exactly ``vocabulary.text(tokens)``. A decoder keeps no per-call state:
    one instance may decode from many threads at once. :meth:`with_options` derives a
    decoder with other weights that shares the loaded LM.
    """

    name = "native"

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        beam_width: int = 100,
        lm: str | Path | ArpaLM | Any | None = None,
        alpha: float = 0.5,
        beta: float = 1.0,
        unk_score_offset: float = -10.0,
        hotwords: Sequence[str] | None = None,
        hotword_weight: float = 10.0,
        beam_prune_logp: float = -10.0,
        token_min_logp: float = -5.0,
        prune_history: bool = False,
        token_top_k: int | None = None,
        blank_skip_threshold: float | None = None,
        lm_cache: bool = True,
        lm_rules: str = "kit",
        unigrams: Iterable[str] | str | Path | None = None,
        score_boundary: bool = True,
        lm_case: str | None = "auto",
        num_workers: int | None = None,
        frame_rate: float | None = None,
        input_type: str = "auto",
        nbest: int = 1,
        lexicon: str | Path | Lexicon | dict | None = None,
        unknown_word_score: float | None = None,
        lm_lookahead: bool = False,
    ) -> None:
        super().__init__(vocabulary, frame_rate=frame_rate, input_type=input_type, nbest=nbest)  # type: ignore[arg-type]
        self.beam_width = check_positive_int("beam_width", beam_width, maximum=MAX_BEAM_WIDTH)
        self.num_workers = None if num_workers is None else check_positive_int("num_workers", num_workers)
        self.alpha = check_finite_number("alpha", alpha)
        self.beta = check_finite_number("beta", beta)
        self.unk_score_offset = check_finite_number("unk_score_offset", unk_score_offset)
        if token_top_k is not None:
            check_positive_int("token_top_k", token_top_k)
        if blank_skip_threshold is not None:
            value = check_finite_number("blank_skip_threshold", blank_skip_threshold)
            if not 0.0 < value <= 1.0:
                raise InputError(f"blank_skip_threshold must be a probability in (0, 1], got {blank_skip_threshold!r}")
        if lm_rules not in ("pyctcdecode", "kit"):
            raise InputError(f"lm_rules must be 'pyctcdecode' or 'kit', got {lm_rules!r}")
        if not isinstance(score_boundary, (bool, np.bool_)):
            raise InputError(f"score_boundary must be True or False, got {score_boundary!r}")
        score_boundary = bool(score_boundary)
        known_words = None if unigrams is None else _read_unigrams(unigrams)
        if lm_case not in ("auto", "lower", "upper", None):
            raise InputError(f"lm_case must be 'auto', 'lower', 'upper' or None, got {lm_case!r}")
        if hotwords is None:
            hotwords = ()
        elif isinstance(hotwords, str):
            hotwords = [hotwords]
        if not all(isinstance(h, str) for h in hotwords):
            raise InputError(f"hotwords must be a sequence of strings, got {hotwords!r}")
        self._py_lm_unigrams: Any = None
        force_kit_rules = False
        # An LM in another alphabet is refused (as rescore and pyctcdecode's backend do), except an ARPA
        # file under lm_rules="pyctcdecode": the library takes any LM (a Hub repo's case mismatch too).
        self._check_fit = lm_rules == "kit"
        self._native_lm, self._py_lm, self._case, force_kit_rules = self._make_lm(lm, lm_case)
        if not score_boundary and self._py_lm is not None:
            raise InputError(
                f"score_boundary=False needs a native LM (an ARPA file or a KenLM probing/trie binary); "
                f"{type(self._py_lm).__name__} is called back from Python and always starts after <s>"
            )
        self.score_boundary = score_boundary
        self._labels = beam_labels(vocabulary, self._case)
        self.lexicon: Lexicon | None = None
        self.unknown_word_score = None if unknown_word_score is None else check_finite_number(
            "unknown_word_score", unknown_word_score
        )
        self._trie: Any = None
        self._lookahead: Any = None
        if lexicon is not None:
            self._setup_lexicon(lexicon, lm_rules, hotwords, prune_history, bool(lm_lookahead))
        elif unknown_word_score is not None:
            raise InputError("unknown_word_score only applies with a lexicon (lexicon=...)")
        options = _native.DecodeOptions()
        options.beam_width = self.beam_width
        options.beam_prune_logp = check_finite_number("beam_prune_logp", beam_prune_logp)
        options.token_min_logp = check_finite_number("token_min_logp", token_min_logp)
        options.token_top_k = int(token_top_k or 0)
        options.blank_skip_logp = 1.0 if blank_skip_threshold is None else math.log(blank_skip_threshold)
        options.hotword_weight = check_finite_number("hotword_weight", hotword_weight)
        options.hotwords = [w for h in hotwords for w in self._lm_text(h.strip()).split()]
        options.lm_cache = bool(lm_cache)
        options.prune_history = bool(prune_history)
        lm_object = self._native_lm or self._py_lm
        options.history_order = int(getattr(lm_object, "order", 1)) if lm_object is not None else 1
        options.kit_lm_rules = lm_rules == "kit" or force_kit_rules or lexicon is not None
        options.pyctcdecode_quirks = lm_rules == "pyctcdecode"
        options.score_boundary = score_boundary
        self.lm_rules = lm_rules
        # pyctcdecode's known-word set (shared, read-only, by every worker thread of every call)
        self._lm_unigrams: Any = None
        if known_words is not None and self._native_lm is not None and not options.kit_lm_rules:
            self._lm_unigrams = _known_word_list(self._native_lm, known_words)
        self._options = options  # read-only after construction (the C++ side copies it per call)
        self._config: dict[str, Any] = {
            "beam_width": beam_width, "lm": lm_object, "alpha": alpha, "beta": beta,
            "unk_score_offset": unk_score_offset, "hotwords": tuple(hotwords), "hotword_weight": hotword_weight,
            "beam_prune_logp": beam_prune_logp, "token_min_logp": token_min_logp, "prune_history": prune_history,
            "token_top_k": token_top_k, "blank_skip_threshold": blank_skip_threshold, "lm_cache": lm_cache,
            "lm_rules": lm_rules, "unigrams": known_words, "score_boundary": score_boundary,
            "lm_case": lm_case if lm_object is None or lm_case != "auto" else self._case,
            "num_workers": num_workers, "frame_rate": frame_rate, "input_type": input_type, "nbest": nbest,
            "lexicon": self.lexicon, "unknown_word_score": unknown_word_score, "lm_lookahead": lm_lookahead,
        }

    # ---------------------------------------------------------------- lexicon
    def _setup_lexicon(self, lexicon: Any, lm_rules: str, hotwords: Any, prune_history: bool, lookahead: bool) -> None:
        if self.vocabulary.word_delimiter is None:
            raise InputError(
                "lexicon decoding needs a vocabulary with a word delimiter token (e.g. '|' or '<wb>'); "
                "pass word_delimiter= when building the Vocabulary"
            )
        if lm_rules != "kit":
            raise InputError("lexicon decoding fuses the LM with the kit's rules; drop lm_rules='pyctcdecode'")
        if hotwords:
            raise InputError("hotwords are not supported with a lexicon (the lexicon already fixes the words)")
        if prune_history:
            raise InputError("prune_history is not supported with a lexicon")
        self.lexicon = as_lexicon(lexicon)
        self._trie = _compile_lexicon(self.lexicon, self.vocabulary, self._case)
        lm_object = self._native_lm or self._py_lm
        if lookahead and lm_object is not None:
            py_lm = self._called_back_lm()
            try:
                self._lookahead = _native.lexicon_lookahead(
                    self._trie,
                    None if self._native_lm is None else self._native_lm._model,
                    py_lm,
                    self._py_lm_unigrams,
                    self.alpha,
                    self.beta,
                    self.unk_score_offset,
                    self.score_boundary,
                )
            except _native.LanguageModelCallbackError as exc:
                _raise_lm_failure(exc, py_lm)

    # ---------------------------------------------------------------- language model
    def _make_lm(self, lm: Any, lm_case: str | None) -> tuple[Any, Any, str | None, bool]:
        """(native LM, Python LM, LM case, force kit rules) for the ``lm`` option."""
        if lm is None:
            return None, None, None, False
        if not self.vocabulary.has_word_boundaries:
            raise LanguageModelError(
                "a word language model needs a vocabulary with a word delimiter (e.g. '|') or '▁' word prefixes"
            )
        if isinstance(lm, (str, Path)):
            from ..lm.cache import load_lm

            path = Path(lm)  # loaded once per process (ctcdecode_kit.lm.clear_cache empties the cache)
            if path.is_file() and _kenlm_only(path):
                lm = load_lm(path, "kenlm", case=lm_case)  # a KenLM rest_probing file, say: KenLM reads it, we call back
            else:
                lm = load_lm(path, "native")
        if isinstance(lm, ArpaLM):
            case = detect_case(lm.listed_unigrams()) if lm_case == "auto" else lm_case
            if self._check_fit:
                check_vocabulary_fits(_fit_subject(lm), self.vocabulary, case)
            return lm, None, case, False
        twin = _native_twin(lm)
        if twin is not None:  # a kit KenLM over a plain ARPA file: same scores, no callbacks
            case = lm.case if lm_case == "auto" else lm_case
            check_vocabulary_fits(lm, self.vocabulary, case)
            return twin, None, case, True
        missing = [name for name in ("begin", "score", "end") if not callable(getattr(lm, name, None))]
        if missing:
            raise LanguageModelError(
                f"lm must be a path to an ARPA or KenLM file, an ArpaLM or a language model with begin(), "
                f"score(state, word) and end(state); {type(lm).__name__} lacks {', '.join(missing)}"
            )
        unigrams = getattr(lm, "unigrams", None)
        words = [w for w in unigrams if isinstance(w, str)] if unigrams else []
        self._py_lm_unigrams = _native.WordList(words) if words else None
        if lm_case != "auto":
            case = lm_case
        else:
            case = getattr(lm, "case", None)
            if case not in ("lower", "upper"):
                case = detect_case(words) if words else None
        check_vocabulary_fits(lm, self.vocabulary, case)
        self._py_lm_name = lm_name(lm)
        return None, lm, case, False

    def _called_back_lm(self) -> Any:
        """The Python LM as the search calls it (None for none): a fresh :class:`_CalledBackLM`
        per call, so concurrent calls keep their own failure; the kit's own LM classes as they are."""
        lm = self._py_lm
        if lm is None or vars(type(lm)).get("_ctcdecode_kit_trusted", False):
            return lm
        return _CalledBackLM(lm, self._py_lm_name)

    def _lm_text(self, text: str) -> str:
        return apply_case(text, self._case)

    def _lm_log_prob(self, text: str) -> float:
        words = self._lm_text(text).split()
        if not words:
            if not self.score_boundary:
                return 0.0
            if self._native_lm is not None:  # log p(</s> | <s>), as the search adds it
                return log10_to_ln(self._native_lm.sentence_log10([], bos=True, eos=True))
            if self._py_lm is not None:
                return float(self._py_lm.end(self._py_lm.begin()))
            return 0.0
        if self._native_lm is not None:
            boundary = self.score_boundary
            return log10_to_ln(self._native_lm.sentence_log10(words, bos=boundary, eos=boundary))
        if self._py_lm is not None:
            state = self._py_lm.begin()
            total = 0.0
            for word in words:
                logp, state = self._py_lm.score(state, word)
                total += float(logp)
            return total + float(self._py_lm.end(state))
        return 0.0

    # ---------------------------------------------------------------- decoding
    def _workers_for(self, jobs: int) -> int:
        wanted = self.num_workers
        if wanted is None:
            try:
                wanted = len(os.sched_getaffinity(0))
            except AttributeError:  # pragma: no cover - not Linux
                wanted = os.cpu_count() or 1
        return max(1, min(wanted, jobs))

    def decode(self, logits: Any, lengths: Any = None, *, nbest: int | None = None) -> list[list[Hypothesis]]:
        """Decode a batch; see :class:`~ctcdecode_kit.decoder.Decoder`.

        Plain CPU float arrays take a numpy fast path (the same checks as
        :func:`~ctcdecode_kit.inputs.prepare_log_probs`, without torch's per-call overhead);
        anything else, and any input that fails a check, goes through ``prepare_log_probs``,
        which raises the usual :class:`~ctcdecode_kit.errors.InputError`.
        """
        count = self.nbest if nbest is None else check_positive_int("nbest", nbest)
        arrays = self._fast_inputs(logits, lengths)
        if arrays is None:
            return super().decode(logits, lengths, nbest=count)
        return self._decode_arrays(arrays, count)

    def _fast_inputs(self, logits: Any, lengths: Any) -> list[np.ndarray] | None:
        if self.input_type == "probs":
            return None
        torch = sys.modules.get("torch")  # a tensor implies torch is imported; never import it here
        if torch is not None and isinstance(logits, torch.Tensor):
            if logits.device.type != "cpu" or logits.dtype != torch.float32 or logits.requires_grad:
                return None
            x = logits.numpy()
        elif isinstance(logits, np.ndarray) and logits.dtype in (np.float32, np.float64):
            x = logits
        else:
            return None
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[0] == 0 or x.shape[2] != len(self.vocabulary):
            return None
        counts = check_lengths(lengths, x.shape[0], x.shape[1]).tolist()
        maybe_probs = self.input_type == "auto" and x.shape[2] >= 2
        if lengths is None:  # nothing padded: check the whole array at once
            x = np.ascontiguousarray(x, dtype=np.float32)
            if x.shape[1] and not _usable(x, maybe_probs):
                return None
            return list(x)
        arrays = []
        for b, n in enumerate(counts):
            arrays.append(np.ascontiguousarray(x[b, :n], dtype=np.float32))
        valid = [a for a in arrays if a.shape[0]]
        if valid and not all(_usable(a, False) for a in valid):
            return None
        if maybe_probs and valid and all(_usable(a, True) is False for a in valid):
            return None  # looks like probabilities: let prepare_log_probs explain
        return arrays

    def _decode_batch(self, batch: LogProbBatch, nbest: int) -> list[list[Hypothesis]]:
        return self._decode_arrays([batch.utterance(b) for b in range(batch.log_probs.shape[0])], nbest)

    def _decode_arrays(self, arrays: list[np.ndarray], nbest: int) -> list[list[Hypothesis]]:
        todo = [i for i, a in enumerate(arrays) if a.shape[0] > 0]
        outputs: list[list[tuple[str, list, float, float, list[int]]]] = [[] for _ in arrays]
        if todo:
            inputs = [arrays[i] for i in todo]  # log-softmax + clip run natively, in the worker threads
            vocab = self.vocabulary
            py_lm = self._called_back_lm()
            try:
                decoded = _native.decode_batch(
                    inputs,
                    self._labels,
                    vocab.blank,
                    -1 if vocab.word_delimiter is None else vocab.word_delimiter,
                    vocab.word_prefix,
                    self._options,
                    None if self._native_lm is None else self._native_lm._model,
                    py_lm,
                    self._py_lm_unigrams,
                    self.alpha,
                    self.beta,
                    self.unk_score_offset,
                    self._workers_for(len(todo)),
                    nbest,
                    lexicon=self._trie,
                    lookahead=self._lookahead,
                    allow_unknown=self.unknown_word_score is not None,
                    unknown_word_score=self.unknown_word_score or 0.0,
                    lm_unigrams=self._lm_unigrams,
                )
            except _native.LanguageModelCallbackError as exc:  # only the user's LM failing, nothing else
                _raise_lm_failure(exc, py_lm)
            for i, beams in zip(todo, decoded):
                outputs[i] = beams
        return [self._hypotheses(out, nbest, array) for out, array in zip(outputs, arrays)]

    def _to_vocab_text(self, text: str) -> str:
        """A search text (LM case, special-token stand-ins) in the vocabulary's case."""
        clean = strip_private(text)
        if self._case is None or self.vocabulary.letter_case not in ("upper", "lower"):
            return clean
        return apply_case(clean, self.vocabulary.letter_case)

    def _hypotheses(
        self, beams: list[tuple[str, list, float, float, list[int]]], nbest: int, array: np.ndarray
    ) -> list[Hypothesis]:
        if not beams:
            return [Hypothesis("", (), 0.0, 0.0, 0.0, ())]
        if self._trie is not None:
            return [self._lexicon_hypothesis(beam) for beam in beams[:nbest]]
        hyps = []
        for text, frames, am_score, total, tokens in beams[:nbest]:
            # The search's words (in the LM's case) and the vocabulary's words of the emitted
            # tokens are the same words; a word made only of special tokens is in neither.
            spans = [span for word, span in zip(text.split(), frames) if strip_private(word)]
            spelled = self.vocabulary.words(tokens)
            if len(spans) != len(spelled):
                if self.lm_rules != "pyctcdecode":  # pragma: no cover - would be a bug in the search
                    raise RuntimeError(f"native search returned {len(spans)} word spans for {len(spelled)} words")
                # pyctcdecode's shared word-break flag split words its tokens do not: keep its
                # text (exact reproduction) and report the best tokenisation of that text
                clean = self._to_vocab_text(text)
                tokens = list(align_text(array, clean, self.vocabulary).tokens)
                spelled = self.vocabulary.words(tokens)
            words = tuple(
                Word(w.text, int(start), int(end)).with_frame_rate(self.frame_rate)
                for w, (start, end) in zip(spelled, spans)
            )
            clean_text = " ".join(w.text for w in words)
            hyps.append(
                Hypothesis(clean_text, tuple(tokens), float(total), float(am_score), self._lm_log_prob(clean_text), words)
            )
        return hyps

    def _lexicon_hypothesis(self, beam: tuple) -> Hypothesis:
        # Words are lexicon words (already in output form) or unknown words spelled in the
        # search's labels (LM case, special-token stand-ins), one frame span each.
        text, frames, am_score, total, tokens, word_ids = beam
        words = []
        for word, word_id, (start, end) in zip(text.split(" ") if text else [], word_ids, frames):
            if word_id < 0:
                word = self._to_vocab_text(word)
            if word:
                words.append(Word(word, int(start), int(end)).with_frame_rate(self.frame_rate))
        clean_text = " ".join(w.text for w in words)
        return Hypothesis(clean_text, tuple(tokens), float(total), float(am_score), self._lm_log_prob(clean_text), tuple(words))

    def __repr__(self) -> str:
        lm = self._native_lm or self._py_lm
        return f"NativeDecoder(vocabulary={len(self.vocabulary)} tokens, beam_width={self.beam_width}, lm={lm!r})"


def _raise_lm_failure(exc: Exception, py_lm: Any) -> None:
    """Raise the :class:`LanguageModelError` for a failed Python-LM callback (``exc``, from the C++ side).

    The failure ``py_lm`` (a :class:`_CalledBackLM`) kept names the LM and the word and is
    chained from the LM's own exception; otherwise the C++ message's first line (pybind11
    appends a multi-line ``At:`` trace).
    """
    failure = getattr(py_lm, "failure", None)
    if failure is not None:
        raise failure from failure.__cause__
    raise LanguageModelError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def _read_unigrams(source: Iterable[str] | str | Path) -> tuple[str, ...]:
    """The words of the ``unigrams`` option: a file's lines as they are (as pyctcdecode reads unigrams.txt), or the iterable's."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise MissingFileError(f"unigrams: word list {str(path)!r} does not exist (one word per line expected)")
        try:
            return tuple(path.read_text(encoding="utf-8").splitlines())
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"unigrams: word list {str(path)!r} is not UTF-8 ({exc.reason})") from None
    try:
        words = tuple(source)
    except TypeError:
        raise InputError(f"unigrams must be an iterable of words or a path to a word list, got {source!r}") from None
    bad = next((w for w in words if not isinstance(w, str)), None)
    if bad is not None:
        raise InputError(f"unigrams must hold strings (words), got {bad!r}")
    return words


@functools.lru_cache(maxsize=4)
def _known_word_list(lm: ArpaLM, words: tuple[str, ...]) -> Any:
    """pyctcdecode's ``_prepare_unigram_set``: the distinct words ``lm`` contains, as a native list (cached per LM and list)."""
    return _native.WordList(sorted({w for w in words if w in lm}))


@functools.lru_cache(maxsize=8)
def _compile_lexicon(lexicon: Lexicon, vocabulary: Vocabulary, lm_case: str | None) -> Any:
    """The native trie of ``lexicon`` over ``vocabulary``'s token ids (cached: decoders derived by with_options share it)."""
    out_words, prons = lexicon.resolve(vocabulary)
    lm_words = [apply_case(w, lm_case) for w in out_words]
    return _native.LexiconTrie(lm_words, list(out_words), [(w, list(ids)) for w, ids in prons], len(vocabulary))


register_decoder("native", NativeDecoder, overwrite=True)
