"""Beam search through pyctcdecode, behind the common :class:`~ctcdecode_kit.Decoder` API.

What this module adds over calling pyctcdecode directly:

* the alphabet is built from the :class:`~ctcdecode_kit.Vocabulary` (blank anywhere,
  ``|`` or ``" "`` delimiter, ``<s>``/``</s>``/``<unk>`` mapped to private characters that
  never reach the text), so pyctcdecode prints no alphabet warnings;
* the LM's letter case is matched to the vocabulary's (wav2vec2 is UPPERCASE, most
  ARPA files are lowercase) instead of scoring every word as unknown;
* a batch is decoded on ``num_workers`` forked worker processes that the decoder owns
  (pyctcdecode is pure Python, so threads would not help); the caller never handles a Pool.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> logits = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]]))
    >>> build_decoder("pyctcdecode", vocab, beam_width=10).decode(logits)[0][0].text
    'AB'
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..decoder import DecoderBase, register_decoder
from ..errors import InputError
from ..hypothesis import Hypothesis, Word
from ..inputs import LogProbBatch, check_finite_number, check_positive_int
from ..lm.casing import apply_case
from ..vocabulary import Vocabulary

if TYPE_CHECKING:
    from ..lm import LanguageModel

__all__ = ["PyctcdecodeDecoder", "pyctcdecode_labels"]

_PRIVATE_BASE = 0xE000  # Unicode private-use area: stand-ins for special tokens
MAX_BEAM_WIDTH = 10_000


def pyctcdecode_labels(vocabulary: Vocabulary, case: str | None = None) -> list[str]:
    """The label list pyctcdecode expects for ``vocabulary``.

    The blank becomes ``""``, the word delimiter ``" "``, and each special token a
    private-use character (removed from the output text). ``case`` ("lower"/"upper")
    converts the letters to match a language model.

    Example:
        >>> v = Vocabulary.from_labels(["<pad>", "<unk>", "|", "A"])
        >>> pyctcdecode_labels(v, case="lower")
        ['', '\\ue001', ' ', 'a']
    """
    labels = []
    for i, token in enumerate(vocabulary.tokens):
        if i == vocabulary.blank:
            labels.append("")
        elif i == vocabulary.word_delimiter:
            labels.append(" ")
        elif i in vocabulary.special:
            labels.append(chr(_PRIVATE_BASE + i))
        elif case == "lower":
            labels.append(token.lower())
        elif case == "upper":
            labels.append(token.upper())
        else:
            labels.append(token)
    if len(set(labels)) != len(labels):
        raise InputError(
            f"the vocabulary's tokens collide after case conversion to {case!r}; pass lm_case=None"
        )
    return labels


def _strip_private(text: str) -> str:
    return " ".join("".join(c for c in text if not _PRIVATE_BASE <= ord(c) < _PRIVATE_BASE + 0x1000).split())


# Worker-process side: the decoder object is inherited through fork, never pickled.
_WORKER: dict[str, Any] = {}


def _init_worker(beam_decoder: Any, settings: dict[str, Any]) -> None:
    _WORKER["decoder"] = beam_decoder
    _WORKER["settings"] = settings


def _decode_in_worker(log_probs: np.ndarray) -> list[tuple[str, list, float, float]]:
    return _run_beams(_WORKER["decoder"], log_probs, _WORKER["settings"])


def _run_beams(beam_decoder: Any, log_probs: np.ndarray, settings: dict[str, Any]) -> list[tuple[str, list, float, float]]:
    beams = beam_decoder.decode_beams(log_probs, **settings)
    return [(text, frames, float(am), float(total)) for text, _state, frames, am, total in beams]


class PyctcdecodeDecoder(DecoderBase):
    """pyctcdecode's beam search, optionally fused with a language model (KenLM file or any LanguageModel).

    Args:
        vocabulary: output vocabulary.
        beam_width: beams kept per frame (1..10000).
        lm: None, a path to an ARPA / KenLM binary file (loaded as
            :class:`~ctcdecode_kit.lm.KenLM`), or any :class:`~ctcdecode_kit.lm.LanguageModel`
            object (shallow fusion through :class:`~ctcdecode_kit.lm.PyctcdecodeLM`).
        alpha: LM weight (natural-log LM scores are multiplied by it).
        beta: word insertion bonus per word.
        unk_score_offset: log-score added for a word outside the LM's unigrams (not
            multiplied by alpha; also charged to a partial word that starts no unigram).
        hotwords: words to boost; ``hotword_weight`` is the boost.
        beam_prune_logp, token_min_logp, prune_history: pyctcdecode's pruning knobs.
        lm_case: "lower"/"upper" to force the LM's case, "auto" to take it from the LM
            (its ``case`` attribute, else its unigrams; a custom LM without either gets
            words in the vocabulary's case), None to never convert.
        num_workers: processes for a batch (None: one per core, up to the batch size; 1: serial).
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
        hotwords: Sequence[str] = (),
        hotword_weight: float = 10.0,
        beam_prune_logp: float = -10.0,
        token_min_logp: float = -5.0,
        prune_history: bool = False,
        lm_case: str | None = "auto",
        num_workers: int | None = None,
        frame_rate: float | None = None,
        input_type: str = "auto",
        nbest: int = 1,
    ) -> None:
        super().__init__(vocabulary, frame_rate=frame_rate, input_type=input_type, nbest=nbest)  # type: ignore[arg-type]
        from pyctcdecode.alphabet import Alphabet
        from pyctcdecode.decoder import BeamSearchDecoderCTC

        self.beam_width = check_positive_int("beam_width", beam_width, maximum=MAX_BEAM_WIDTH)
        if num_workers is not None:
            check_positive_int("num_workers", num_workers)
        for name, value in (("alpha", alpha), ("beta", beta), ("unk_score_offset", unk_score_offset),
                            ("hotword_weight", hotword_weight)):
            check_finite_number(name, value)
        if isinstance(hotwords, str):
            hotwords = [hotwords]
        if not all(isinstance(h, str) for h in hotwords):
            raise InputError(f"hotwords must be a sequence of strings, got {hotwords!r}")
        self.num_workers = num_workers
        self.alpha, self.beta = float(alpha), float(beta)
        language_model, self._case = self._make_language_model(lm, lm_case, float(unk_score_offset))
        self._lm = language_model
        # the labels follow the LM's case; output text goes back to the vocabulary's (computed once)
        self._vocab_case = vocabulary.letter_case if vocabulary.letter_case in ("upper", "lower") else None
        labels = pyctcdecode_labels(vocabulary, self._case)
        self._beam_decoder = BeamSearchDecoderCTC(Alphabet(labels, vocabulary.word_prefix), language_model)
        self._settings: dict[str, Any] = {
            "beam_width": self.beam_width,
            "beam_prune_logp": float(beam_prune_logp),
            "token_min_logp": float(token_min_logp),
            "prune_history": bool(prune_history),
            # hotwords are matched against the decoder's labels, which follow the LM's case
            "hotwords": [apply_case(h, self._case) for h in hotwords] or None,
            "hotword_weight": float(hotword_weight),
        }
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0

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
        outputs: list[list[tuple[str, list, float, float]] | None] = [None] * len(arrays)
        todo = [i for i, a in enumerate(arrays) if a.shape[0] > 0]
        workers = self._workers_for(len(todo))
        if workers > 1:
            pool = self._get_pool(workers)
            for i, out in zip(todo, pool.map(_decode_in_worker, [arrays[i] for i in todo])):
                outputs[i] = out
        else:
            for i in todo:
                outputs[i] = _run_beams(self._beam_decoder, arrays[i], self._settings)
        return [self._hypotheses(out or [], nbest) for out in outputs]

    def _hypotheses(self, beams: list[tuple[str, list, float, float]], nbest: int) -> list[Hypothesis]:
        if not beams:
            return [Hypothesis("", (), 0.0, 0.0, 0.0, ())]
        hyps = []
        for text, frames, am_score, total in beams[:nbest]:
            words = []
            for word, (start, end) in frames:
                clean = _strip_private(word)
                if not clean:
                    continue
                clean = self._to_vocab_case(clean)
                words.append(Word(clean, int(start), int(end)).with_frame_rate(self.frame_rate))
            clean_text = self._to_vocab_case(_strip_private(text))
            tokens = tuple(self.vocabulary.encode(clean_text))
            lm_score = self._lm_log_prob(clean_text)
            hyps.append(Hypothesis(clean_text, tokens, total, am_score, lm_score, tuple(words)))
        return hyps

    def _to_vocab_case(self, text: str) -> str:
        return text if self._case is None else apply_case(text, self._vocab_case)

    # ---------------------------------------------------------------- workers
    def _workers_for(self, jobs: int) -> int:
        if jobs < 2:
            return 1
        wanted = self.num_workers if self.num_workers is not None else (os.cpu_count() or 1)
        if wanted < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return 1
        return min(wanted, jobs)

    def _get_pool(self, workers: int) -> ProcessPoolExecutor:
        if self._pool is None or self._pool_size < workers:
            self.close()
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init_worker,
                initargs=(self._beam_decoder, self._settings),
            )
            self._pool_size = workers
        return self._pool

    def close(self) -> None:
        """Shut the worker processes down (they are restarted on the next batch)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._pool_size = 0

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


register_decoder("pyctcdecode", PyctcdecodeDecoder, overwrite=True)
