"""Worker processes of the ``pyctcdecode`` backend: picklable recipes, a lazily started pool.

pyctcdecode is pure Python, so a batch is decoded on worker processes that the decoder
owns. This module holds everything that runs in, or talks to, those processes; the
decoder itself (:mod:`ctcdecode_kit.decoders.pyctcdecode`) only builds a
:class:`WorkerPool` and maps batches over it. See that module's docstring for the
start methods, their measured cost and what happens with an LM that cannot be pickled.

Example:
    >>> from ctcdecode_kit.decoders.pyctcdecode_workers import default_start_method
    >>> default_start_method() in ("forkserver", "spawn")
    True
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DecoderWorkerError, InputError, LanguageModelError
from ..labels import strip_private
from ..vocabulary import Vocabulary

__all__ = ["Found", "WorkerPool", "WorkerSpec", "Weights", "default_start_method", "make_beam_decoder", "pickled", "run_beams"]


def default_start_method() -> str:
    """The start method of the decoder's worker processes: ``forkserver`` on Linux, else ``spawn``.

    Neither forks the calling process (which may run torch threads), unlike ``fork``.

    Example:
        >>> default_start_method() in ("forkserver", "spawn")
        True
    """
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        return "forkserver"
    return "spawn"


def make_beam_decoder(labels: Iterable[str], word_prefix: bool, language_model: Any) -> Any:
    """A pyctcdecode ``BeamSearchDecoderCTC`` that holds its LM itself (no class-level registry)."""
    from pyctcdecode.alphabet import Alphabet
    from pyctcdecode.decoder import BeamSearchDecoderCTC

    class _OwnLMBeamDecoder(BeamSearchDecoderCTC):  # type: ignore[misc]
        # pyctcdecode keeps every decoder's LM in a class-level dict that is never emptied;
        # this one keeps it on the instance, so it is freed with the decoder.
        def __init__(self, alphabet: Any, lm: Any) -> None:
            super().__init__(alphabet, None)
            self.cleanup()
            self._own_language_model = lm

        @property
        def _language_model(self) -> Any:
            return self._own_language_model

    return _OwnLMBeamDecoder(Alphabet(list(labels), word_prefix), language_model)


# ---------------------------------------------------------------- worker processes
@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to build beam decoders: labels and LM, no weights (picklable).

    Decoders derived with ``with_options`` that differ only in weights and search settings
    have equal specs, so they share one set of worker processes.
    """

    labels: tuple[str, ...]
    word_prefix: bool
    lm: Any  # None or what lm.loading.portable_language_model returned
    case: str | None
    label_vocab: Vocabulary


@dataclass(frozen=True)
class Weights:
    """What a task tells a worker besides the logits: LM weights and search settings (hashable)."""

    alpha: float
    beta: float
    unk_score_offset: float
    settings: tuple[tuple[str, Any], ...]  # hotwords as a tuple

    def settings_dict(self) -> dict[str, Any]:
        settings = dict(self.settings)
        if settings.get("hotwords") is not None:
            settings["hotwords"] = list(settings["hotwords"])
        return settings


# Worker-process side: the spec and LM, loaded once by the initializer, and one beam
# decoder per distinct weights (a worker process runs one task at a time).
_WORKER: dict[str, Any] = {}
_WORKER_DECODERS = 8  # beam decoders a worker keeps (one per weights, most recent first)


def _init_worker(lm_label: str, payload: bytes) -> None:
    try:
        spec: WorkerSpec = pickle.loads(payload)
        adapter = None
        if spec.lm is not None:
            from ..lm.loading import restore_language_model
            from ..lm.pyctcdecode_adapter import PyctcdecodeLM

            model = restore_language_model(spec.lm)
            adapter = PyctcdecodeLM(model, alpha=0.0, beta=0.0, unk_score_offset=0.0, case=spec.case)
        _WORKER.update(spec=spec, adapter=adapter, decoders={})
    except Exception as exc:  # noqa: BLE001 - kept and re-raised by every task of this worker, never hidden
        _WORKER["error"] = f"{lm_label}: {type(exc).__name__}: {exc}"


def _worker_decoder(weights: Weights) -> Any:
    decoders: dict[Weights, Any] = _WORKER["decoders"]
    decoder = decoders.pop(weights, None)
    if decoder is None:
        spec, adapter = _WORKER["spec"], _WORKER["adapter"]
        if adapter is not None:
            adapter = adapter.with_weights(
                alpha=weights.alpha, beta=weights.beta, unk_score_offset=weights.unk_score_offset
            )
        decoder = make_beam_decoder(spec.labels, spec.word_prefix, adapter)
        while len(decoders) >= _WORKER_DECODERS:
            decoders.pop(next(iter(decoders)))
    decoders[weights] = decoder  # most recently used last
    return decoder


def _decode_in_worker(log_probs: np.ndarray, nbest: int, weights: Weights) -> list[Found]:
    if "error" in _WORKER:
        raise LanguageModelError(
            f"a pyctcdecode worker process could not rebuild the decoder ({_WORKER['error']}); "
            f"an LM class must be importable by the worker (defined at module level), or pass num_workers=1"
        )
    decoder = _worker_decoder(weights)
    return run_beams(decoder, log_probs, weights.settings_dict(), _WORKER["spec"].label_vocab, nbest)


class WorkerPool:
    """Worker processes started lazily, once, under a lock; shared by decoders derived with ``with_options``."""

    def __init__(self, payload: bytes, lm_label: str, start_method: str, max_workers: int) -> None:
        self.payload, self.lm_label = payload, lm_label
        self.start_method, self.max_workers = start_method, max_workers
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def serves(self, other: WorkerPool) -> bool:
        """Whether this pool's workers can run ``other``'s tasks (same labels, LM and start-up)."""
        return (self.payload, self.start_method, self.max_workers) == (
            other.payload, other.start_method, other.max_workers
        )

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.max_workers,
                    mp_context=multiprocessing.get_context(self.start_method),
                    initializer=_init_worker,
                    initargs=(self.lm_label, self.payload),
                )
            return self._executor

    def map(self, arrays: list[np.ndarray], nbest: int, weights: Weights) -> list[list[Found]]:
        executor = self.executor()
        try:
            return list(executor.map(_decode_in_worker, arrays, [nbest] * len(arrays), [weights] * len(arrays)))
        except BrokenProcessPool as exc:
            with self._lock:
                if self._executor is executor:
                    self._executor = None
            executor.shutdown(wait=False, cancel_futures=True)
            raise DecoderWorkerError(
                f"a pyctcdecode worker process died (start method {self.start_method!r}): it ran out of "
                f"memory or crashed, or the main script decodes at import time (workers import it; put that "
                f"code under `if __name__ == \"__main__\":`); pass num_workers=1 to decode in this process"
            ) from exc

    @property
    def started(self) -> bool:
        return self._executor is not None

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __del__(self) -> None:
        # no lock here: an object being collected cannot be in use by another thread
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


# one beam: its text's best alignment (tokens, starts, ends), pyctcdecode's acoustic and total scores
Found = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], float, float]


def run_beams(
    beam_decoder: Any, log_probs: np.ndarray, settings: dict[str, Any], label_vocab: Vocabulary, nbest: int
) -> list[Found]:
    """The ``nbest`` best beams, each with the best CTC alignment of its text (run where the search ran)."""
    from ..alignment import align_text

    found = []
    for text, _state, frames, am, total in beam_decoder.decode_beams(log_probs, **settings)[:nbest]:
        # pyctcdecode's own word frames only guide the alignment of very long inputs
        spans = [(int(start), int(end)) for word, (start, end) in frames if strip_private(word)]
        clean = strip_private(text)
        try:
            a = align_text(log_probs, clean, label_vocab, word_spans=spans)
        except InputError:
            # no CTC path of these frames spells the text: pyctcdecode's shared word-break
            # flag (a lone "▁" breaks the next token of any beam) can split a word that no
            # path splits. Report a spelling of its text with pyctcdecode's own word frames.
            found.append((*_spelled_with_word_frames(clean, spans, label_vocab), float(am), float(total)))
            continue
        found.append((tuple(int(t) for t in a.tokens), tuple(a.starts), tuple(a.ends), float(am), float(total)))
    return found


def _spelled_with_word_frames(
    text: str, spans: list[tuple[int, int]], vocabulary: Vocabulary
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Token ids spelling ``text`` (``Vocabulary.encode``), each token given its word's frame span."""
    tokens = vocabulary.encode(text)
    count = len(tokens)
    starts, ends = [-1] * count, [-1] * count
    # which tokens make up each word: Vocabulary.words over token positions instead of frames
    for word, span in zip(vocabulary.words(tokens, list(range(count)), list(range(1, count + 1))), spans):
        for i in range(word.start_frame, word.end_frame):
            starts[i], ends[i] = span
    return tuple(tokens), tuple(starts), tuple(ends)


def pickled(obj: Any) -> tuple[bytes | None, str | None]:
    """``(pickle.dumps(obj), None)``, or ``(None, why it cannot be pickled)``."""
    try:
        return pickle.dumps(obj), None
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        return None, f"{type(exc).__name__}: {exc}"