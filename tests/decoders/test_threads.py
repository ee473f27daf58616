"""Decoders shared between threads give the same answers as serial calls (issue 11, item 5).

:func:`assert_threads_match_serial` is the one check: every backend's test adds a case
that builds ONE decoder and hands it a list of different calls (batch, lengths, nbest).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from ctcdecode_kit import build_decoder

THREADS = 8


def assert_threads_match_serial(
    decoder: Any, calls: Sequence[dict[str, Any]], *, serial_decoder: Any = None, threads: int = THREADS
) -> None:
    """Run ``decoder.decode(**call)`` for every call from ``threads`` threads at once and compare.

    Each thread runs every call (starting at a different one, so different calls overlap),
    after a barrier so that they start together. Every result must equal the result of the
    same call made serially, by ``serial_decoder`` when given (an identically built decoder,
    so that ``decoder`` is first used by the threads and its lazy set-up, e.g. a worker pool,
    happens under contention), else by ``decoder`` itself beforehand. The first exception
    raised in a thread is re-raised.
    """
    serial = [(serial_decoder or decoder).decode(**call) for call in calls]
    barrier = threading.Barrier(threads)
    results: list[list[Any]] = [[None] * len(calls) for _ in range(threads)]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for k in range(len(calls)):
                index = (worker + k) % len(calls)
                results[worker][index] = decoder.decode(**calls[index])
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread and re-raised there
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    for worker in range(threads):
        for index, expected in enumerate(serial):
            assert results[worker][index] == expected, f"thread {worker}, call {index} differs from the serial result"


def varied_calls(logits: np.ndarray, rng_seed: int = 0) -> list[dict[str, Any]]:
    """Calls that differ in batch size, lengths and n-best size, built from one real utterance."""
    rng = np.random.default_rng(rng_seed)
    base = logits[0] if logits.ndim == 3 else logits
    noisy = [base + rng.normal(scale=1.5, size=base.shape).astype(np.float32) for _ in range(4)]
    return [
        {"logits": base, "nbest": 1},
        {"logits": np.stack([base, noisy[0]]), "nbest": 3},
        {"logits": np.stack(noisy[:3]), "lengths": [len(base), len(base) // 2, len(base) // 3], "nbest": 2},
        {"logits": noisy[1][: len(base) // 2], "nbest": 5},
        {"logits": np.stack(noisy), "nbest": 1},
    ]


# ---------------------------------------------------------------- pyctcdecode
@pytest.fixture(scope="module")
def wav2vec2(shared):
    return shared.wav2vec2_vocab(), shared.wav2vec2_logits()[:, :200]


@pytest.mark.extra("pyctcdecode")
def test_one_pyctcdecode_decoder_in_this_process_serves_8_threads(wav2vec2):
    vocab, logits = wav2vec2
    decoder = build_decoder("pyctcdecode", vocab, beam_width=8, num_workers=1)
    assert_threads_match_serial(decoder, varied_calls(logits))


@pytest.mark.extra("pyctcdecode")
def test_a_fresh_pyctcdecode_decoder_starts_its_workers_safely_under_8_threads(wav2vec2):
    # batches of 1 to 4 utterances on up to 3 workers, the pool created while threads race
    vocab, logits = wav2vec2
    serial = build_decoder("pyctcdecode", vocab, beam_width=8, num_workers=1)
    with build_decoder("pyctcdecode", vocab, beam_width=8, num_workers=3) as decoder:
        assert_threads_match_serial(decoder, varied_calls(logits), serial_decoder=serial)


@pytest.mark.extra("pyctcdecode")
def test_one_pyctcdecode_decoder_with_an_lm_and_worker_processes_serves_8_threads(wav2vec2, shared):
    vocab, logits = wav2vec2
    lm = str(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    with build_decoder("pyctcdecode", vocab, beam_width=8, lm=lm, num_workers=2) as decoder:
        assert_threads_match_serial(decoder, varied_calls(logits))

