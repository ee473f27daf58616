"""Beam search through pyctcdecode, behind the common :class:`~ctcdecode_kit.Decoder` API.

What this module adds over calling pyctcdecode directly:

* the alphabet is built from the :class:`~ctcdecode_kit.Vocabulary` (blank anywhere,
  ``|`` or ``" "`` delimiter, ``<s>``/``</s>``/``<unk>`` mapped to private characters that
  never reach the text), so pyctcdecode prints no alphabet warnings;
* the LM's letter case is matched to the vocabulary's (wav2vec2 is UPPERCASE, most
  ARPA files are lowercase) instead of scoring every word as unknown;
* token ids and word frames come from a CTC forced alignment of pyctcdecode's text
  (:func:`ctcdecode_kit.alignment.align_text`): pyctcdecode merges beams by text and
  exposes no token ids, so ``tokens`` is the most probable tokenisation of the text
  under the logits, and each word spans the frames of its tokens on that best path
  (half-open ``[start, end)``, the convention of every backend). pyctcdecode's own
  frames are not reported: when it merges two prefixes with the same text it keeps the
  frames of one of them, which can be stale (a word's end frame then lags the best
  path by a frame or more), so the kit's end frame can differ from pyctcdecode's (they
  only guide the alignment of very long inputs);
* a batch is decoded on ``num_workers`` worker processes that the decoder owns
  (pyctcdecode is pure Python, so threads would not help); the caller never handles a Pool.

Worker processes. They are started lazily on the first batch of two or more
utterances, with the ``forkserver`` start method on Linux and ``spawn`` elsewhere
(``start_method=`` overrides it), never by forking the calling process: forking a
process whose other threads run torch or hold locks can deadlock. Each worker gets the
labels and the language model in picklable form (a :class:`~ctcdecode_kit.lm.KenLM`
travels as its path and is loaded again, through the worker's own process-wide LM cache,
so once per worker process; any other LM is pickled) and loads them once;
each task carries the weights and search settings, so decoders derived with
``with_options`` for new weights (``tune``'s trials) share the same workers.

Measured start-up cost (first batch of 2 utterances on 2 new workers, a 2-core machine
shared with other jobs; the pool is then reused and a later batch pays nothing):
``forkserver`` 0.1-0.9 s and ``spawn`` 0.1-0.5 s, with or without LibriSpeech's
``3-gram.pruned.arpa`` (each worker loads it again, 0.2 s); ``fork`` 0.05 s and 0.3-1 s.
(Before ``import ctcdecode_kit`` stopped importing torch, a fresh worker spent about a
second importing it: 1.5-5 s per pool.) Building the decoder pickles the LM's recipe once
(a KenLM: its path and unigram list, 2 MB and 0.03 s for that file).
Because workers import the main script (as every ``spawn``/``forkserver`` program
does), a script that decodes at import time must put that code under
``if __name__ == "__main__":``; otherwise the worker dies and the decoder says so.

A language model that cannot be pickled (a lambda, an open socket, a lock, a class
defined inside a function): with the default ``num_workers=None`` the decoder warns
once and decodes in the calling process; with an explicit ``num_workers`` of 2 or more
it refuses with a :class:`~ctcdecode_kit.errors.LanguageModelError` naming the LM.

The decoder keeps no per-call state: ``decode`` may run from many threads at once (the
worker pool is created once, under a lock, and shared).

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> logits = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]]))
    >>> best = build_decoder("pyctcdecode", vocab, beam_width=10).decode(logits)[0][0]
    >>> best.text, best.tokens, [(w.start_frame, w.end_frame) for w in best.words]
    ('AB', (2, 3), [(0, 3)])
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..decoder import DecoderBase, register_decoder
from ..errors import InputError, LanguageModelError, require
from ..hypothesis import Hypothesis
from ..inputs import LogProbBatch, check_finite_number, check_positive_int
from ..labels import MAX_BEAM_WIDTH, beam_labels
from ..lm.casing import apply_case, check_case
from ..vocabulary import Vocabulary
from .pyctcdecode_workers import (
    Found,
    Weights,
    WorkerPool,
    WorkerSpec,
    default_start_method,
    make_beam_decoder,
    pickled,
    run_beams,
)

if TYPE_CHECKING:
    from ..lm import LanguageModel

__all__ = ["PyctcdecodeDecoder", "default_start_method"]

def _label_vocabulary(vocabulary: Vocabulary, case: str | None) -> Vocabulary:
    """``vocabulary`` with its letters in the LM's case: the spelling of pyctcdecode's text."""
    if case is None:
        return vocabulary
    skip = vocabulary.special | {vocabulary.blank, vocabulary.word_delimiter}
    tokens = tuple(t if i in skip else apply_case(t, case) for i, t in enumerate(vocabulary.tokens))
    return Vocabulary(tokens, vocabulary.blank, vocabulary.word_delimiter, vocabulary.special)


class PyctcdecodeDecoder(DecoderBase):
    """pyctcdecode's beam search, optionally fused with a language model (KenLM file or any LanguageModel).

    Args:
        vocabulary: output vocabulary.
        beam_width: beams kept per frame (1..10000).
        lm: None, a path to an ARPA / KenLM binary file (loaded as
            :class:`~ctcdecode_kit.lm.KenLM`, once per process: see
            :func:`ctcdecode_kit.lm.load_lm`), or any :class:`~ctcdecode_kit.lm.LanguageModel`
            object (shallow fusion through :class:`~ctcdecode_kit.lm.PyctcdecodeLM`).
        alpha: LM weight (natural-log LM scores are multiplied by it).
        beta: word insertion bonus per word.
        unk_score_offset: log-score added for a word outside the LM's unigrams (not
            multiplied by alpha; also charged to a partial word that starts no unigram).
        hotwords: words to boost (None or empty: none); ``hotword_weight`` is the boost.
        beam_prune_logp, token_min_logp, prune_history: pyctcdecode's pruning knobs.
        lm_case: "lower"/"upper" to force the LM's case, "auto" to take it from the LM
            (its ``case`` attribute, else its unigrams; a custom LM without either gets
            words in the vocabulary's case), None to never convert.
        num_workers: processes for a batch (None: one per core, up to the batch size,
            in this process when the LM cannot be pickled; 1: in this process).
        start_method: how worker processes start (None: :func:`default_start_method`;
            ``"fork"`` is accepted but unsafe when other threads run, e.g. torch's).
        frame_rate, input_type, nbest: see :class:`~ctcdecode_kit.decoder.DecoderBase`.
    """

    name = "pyctcdecode"

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        beam_width: int = 100,
        lm: str | Path | LanguageModel | None = None,
        alpha: float = 0.5,
        beta: float = 1.0,
        unk_score_offset: float = -10.0,
        hotwords: Iterable[str] | None = None,
        hotword_weight: float = 10.0,
        beam_prune_logp: float = -10.0,
        token_min_logp: float = -5.0,
        prune_history: bool = False,
        lm_case: str | None = "auto",
        num_workers: int | None = None,
        start_method: str | None = None,
        frame_rate: float | None = None,
        input_type: str = "auto",
        nbest: int = 1,
    ) -> None:
        require("pyctcdecode", extra="pyctcdecode", purpose="the 'pyctcdecode' decoder (the core's beam decoder is 'native')")
        super().__init__(vocabulary, frame_rate=frame_rate, input_type=input_type, nbest=nbest)  # type: ignore[arg-type]
        self.beam_width = check_positive_int("beam_width", beam_width, maximum=MAX_BEAM_WIDTH)
        if num_workers is not None:
            check_positive_int("num_workers", num_workers)
        for name, value in (("alpha", alpha), ("beta", beta), ("unk_score_offset", unk_score_offset),
                            ("hotword_weight", hotword_weight), ("beam_prune_logp", beam_prune_logp),
                            ("token_min_logp", token_min_logp)):
            check_finite_number(name, value)
        check_case(lm_case, "lm_case")
        hotword_list = self._check_hotwords(hotwords)
        methods = multiprocessing.get_all_start_methods()
        if start_method is not None and start_method not in methods:
            raise InputError(f"start_method must be one of {', '.join(methods)} or None, got {start_method!r}")
        self.start_method = start_method if start_method is not None else default_start_method()
        self.num_workers = num_workers
        self.alpha, self.beta = float(alpha), float(beta)
        self._lm, self._case = self._make_language_model(lm, lm_case, float(unk_score_offset))
        # the labels follow the LM's case; output text goes back to the vocabulary's spelling
        labels = beam_labels(vocabulary, self._case)
        self._label_vocab = _label_vocabulary(vocabulary, self._case)
        self._beam_decoder = make_beam_decoder(labels, vocabulary.word_prefix, self._lm)
        self._settings: dict[str, Any] = {
            "beam_width": self.beam_width,
            "beam_prune_logp": float(beam_prune_logp),
            "token_min_logp": float(token_min_logp),
            "prune_history": bool(prune_history),
            # hotwords are matched against the decoder's labels, which follow the LM's case
            "hotwords": [apply_case(h, self._case) for h in hotword_list] or None,
            "hotword_weight": float(hotword_weight),
        }
        self._weights = Weights(
            self.alpha, self.beta, float(unk_score_offset),
            tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in self._settings.items()),
        )
        max_workers = num_workers if num_workers is not None else (os.cpu_count() or 1)
        self._workers: WorkerPool | None = None  # None: always decode in this process
        if max_workers > 1:
            self._workers = self._worker_pool(labels, max_workers, explicit=num_workers is not None)
        self._owns_workers = True
        self._config: dict[str, Any] = {
            "beam_width": beam_width,
            "lm": self._lm.language_model if self._lm is not None else None,  # loaded: shared by with_options
            "alpha": alpha,
            "beta": beta,
            "unk_score_offset": unk_score_offset,
            "hotwords": tuple(hotword_list) or None,
            "hotword_weight": hotword_weight,
            "beam_prune_logp": beam_prune_logp,
            "token_min_logp": token_min_logp,
            "prune_history": prune_history,
            "lm_case": lm_case,
            "num_workers": num_workers,
            "start_method": start_method,
            "frame_rate": frame_rate,
            "input_type": input_type,
            "nbest": nbest,
        }

    @staticmethod
    def _check_hotwords(hotwords: Any) -> list[str]:
        if hotwords is None:
            return []
        if isinstance(hotwords, str):
            return [hotwords]
        if not isinstance(hotwords, Iterable):
            raise InputError(f"hotwords must be None or a sequence of strings, got {hotwords!r}")
        words = list(hotwords)
        if not all(isinstance(h, str) for h in words):
            raise InputError(f"hotwords must be None or a sequence of strings, got {hotwords!r}")
        return words

    # ---------------------------------------------------------------- language model
    def _make_language_model(self, lm: Any, lm_case: str | None, unk_score_offset: float) -> tuple[Any, str | None]:
        if lm is None:
            return None, None
        from ..lm.pyctcdecode_adapter import pyctcdecode_language_model

        return pyctcdecode_language_model(
            lm,
            vocabulary=self.vocabulary,
            alpha=self.alpha,
            beta=self.beta,
            unk_score_offset=unk_score_offset,
            lm_case=lm_case,
        )

    def _lm_log_prob(self, text: str) -> float:
        """Unweighted LM log-prob of the final text, ``</s>`` included (an empty text scores ``</s>`` alone)."""
        if self._lm is None:
            return 0.0
        return float(self._lm.sentence_log_prob(text))

    # ---------------------------------------------------------------- decoding
    def _decode_batch(self, batch: LogProbBatch, nbest: int) -> list[list[Hypothesis]]:
        arrays = [batch.utterance(b) for b in range(batch.log_probs.shape[0])]
        outputs: list[list[Found]] = [[] for _ in arrays]
        todo = [i for i, a in enumerate(arrays) if a.shape[0] > 0]
        if self._workers is not None and len(todo) > 1:
            for i, out in zip(todo, self._workers.map([arrays[i] for i in todo], nbest, self._weights)):
                outputs[i] = out
        else:
            for i in todo:
                outputs[i] = run_beams(self._beam_decoder, arrays[i], self._settings, self._label_vocab, nbest)
        return [self._hypotheses(found) for found in outputs]

    def _hypotheses(self, beams: list[Found]) -> list[Hypothesis]:
        if not beams:
            return [Hypothesis("", (), 0.0, 0.0, 0.0, ())]
        hyps = []
        for tokens, starts, ends, am_score, total in beams:
            words = self.vocabulary.words(tokens, starts, ends, self.frame_rate)
            clean_text = self.vocabulary.text(tokens)
            lm_score = self._lm_log_prob(clean_text)
            hyps.append(Hypothesis(clean_text, tokens, total, am_score, lm_score, tuple(words)))
        return hyps

    # ---------------------------------------------------------------- workers
    def _worker_pool(self, labels: list[str], max_workers: int, *, explicit: bool) -> WorkerPool | None:
        """The worker pool (not started yet), or None (decode in this process) when the LM does not pickle."""
        from ..lm.loading import portable_language_model
        from ..lm.protocol import lm_name

        portable = portable_language_model(self._lm.language_model) if self._lm is not None else None
        spec = WorkerSpec(tuple(labels), self.vocabulary.word_prefix, portable, self._case, self._label_vocab)
        name = lm_name(self._lm.language_model) if self._lm is not None else "no LM"
        payload, problem = pickled(spec)
        if payload is not None:
            return WorkerPool(payload, name, self.start_method, max_workers)
        if explicit:
            raise LanguageModelError(
                f"num_workers={self.num_workers} needs worker processes, but the LM {name} cannot be "
                f"pickled for them ({problem}); pass num_workers=1 to decode in this process, or make the "
                f"LM picklable (class at module level, no open files, locks or lambdas)"
            )
        warnings.warn(
            f"the LM {name} cannot be pickled for worker processes ({problem}); the pyctcdecode decoder "
            f"decodes in this process (pass num_workers=1 to say so and silence this warning)",
            UserWarning,
            stacklevel=4,
        )
        return None

    def with_options(self, **changes: Any) -> PyctcdecodeDecoder:
        """A new decoder with some options changed; this one is left untouched.

        The loaded LM is shared, and so are the worker processes when only weights or
        search settings change (``alpha``, ``beta``, ``beam_width``...): ``tune``'s trials
        then start no new workers. Shared workers belong to this decoder: closing the
        derived one leaves them running, closing this one stops them (they restart on the
        next batch of either).

        Example:
            >>> from ctcdecode_kit import build_decoder
            >>> d = build_decoder("pyctcdecode", ["<pad>", "|", "A"], beam_width=8)
            >>> d.with_options(beam_width=4).beam_width, d.beam_width
            (4, 8)
        """
        derived = cast(PyctcdecodeDecoder, super().with_options(**changes))
        if self._workers is not None and derived._workers is not None and derived._workers.serves(self._workers):
            derived._workers, derived._owns_workers = self._workers, False
        return derived

    def close(self) -> None:
        """Shut the worker processes down (they are restarted on the next batch).

        Workers shared with the decoder this one was derived from are left to that decoder.
        """
        if self._workers is not None and self._owns_workers:
            self._workers.close()


register_decoder("pyctcdecode", PyctcdecodeDecoder, overwrite=True)
