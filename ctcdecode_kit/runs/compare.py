"""Run several decoders on the same logits and compare their WER, CER and speed.

:func:`compare` is four steps, each its own function:

1. plan (:func:`plan_comparison`): check the inputs, parse the decoder specs
   (:mod:`ctcdecode_kit.runs.specs`) and fingerprint everything the results depend on;
2. output (:func:`open_output`): check the output folder against that fingerprint
   (``run.json``, see :mod:`ctcdecode_kit.runs.fingerprint`), open the journal and the
   logits cache;
3. run (:func:`run_comparison`): the acoustic model (or the saved / cached logits) feeds
   batches to every decoder; while the decoders work on batch N in a background thread,
   the acoustic model already computes batch N+1 (on a GPU the two overlap fully);
4. report (:mod:`ctcdecode_kit.runs.outputs`): corpus scores, ``results.json`` /
   ``results.csv`` / ``wer_vs_time.png``, written atomically.

In the output folder, as it goes:

* ``run.json``: what produced the folder (written first);
* ``hyps.jsonl``: one line per (decoder, utterance), fsynced per batch (the journal that
  ``resume=True`` continues from; see :mod:`ctcdecode_kit.runs.journal`);
* ``logits/*.npy``: the acoustic model's log-probs, so a rerun of the same run skips the
  acoustic pass (saved logits are read from their own files, never copied here).

Example:
    >>> from ctcdecode_kit.datasets import load_dataset
    >>> data = load_dataset("../shared/data/wav2vec2-logits")
    >>> result = compare(data, decoders=["greedy"], vocabulary=data.vocabulary, frame_rate=50)
    >>> result.results[0].decoder, result.results[0].wer
    ('greedy', 0.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__, package_versions
from ..decoder import Decoder
from ..errors import InputError
from ..vocabulary import Vocabulary
from .fingerprint import RunFolder, digest, lm_fingerprint, model_fingerprint, utterances_fingerprint
from .journal import Journal, ensure_output_dir
from .logits_cache import LogitsCache, iter_log_probs, utterance_log_probs
from .outputs import Comparison, DecoderResult, summarise, write_summary
from .specs import (
    DecoderSpec,
    SharedSettings,
    available_decoder_specs,
    build_from_spec,
    check_settings_used,
    parse_decoder_spec,
    spec_labels,
)

__all__ = [
    "COMPARE_FILES",
    "Comparison",
    "ComparePlan",
    "DecoderResult",
    "compare",
    "open_output",
    "plan_comparison",
    "run_comparison",
    "utterance_log_probs",
]

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: called as work finishes (task is "acoustic" or a decoder label)."""

COMPARE_FILES = ("hyps.jsonl", "results.json", "results.csv", "wer_vs_time.png")
"""The files a comparison writes in its output folder (besides ``run.json`` and ``logits/``)."""

CHUNK_LENGTH_S = 30.0
"""Audio longer than this goes through the model in overlapping chunks (AcousticModel.iter_logits' default)."""


@dataclass(frozen=True)
class ComparePlan:
    """Everything a comparison needs, checked, with the fingerprint of what its results depend on."""

    utterances: tuple[Any, ...]
    specs: tuple[DecoderSpec, ...]
    shared: SharedSettings
    vocabulary: Vocabulary
    model: Any
    batch_size: int
    settings: dict[str, Any]
    fingerprint: dict[str, Any]

    @property
    def ids(self) -> list[str]:
        """Utterance ids in dataset order."""
        return [u.id for u in self.utterances]

    @property
    def labels(self) -> list[str]:
        """Decoder labels in table order."""
        return [s.label for s in self.specs]

    @property
    def frame_rate(self) -> float:
        """Frames per second of the logits."""
        return float(self.shared.frame_rate or 50.0)


def plan_comparison(
    utterances: Sequence[Any],
    *,
    decoders: Sequence[str] | None = None,
    model: Any = None,
    vocabulary: Vocabulary | None = None,
    frame_rate: float | None = None,
    lm: str | Path | Any | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    beam_width: int | None = None,
    batch_size: int = 8,
    settings: dict[str, Any] | None = None,
) -> ComparePlan:
    """Check a comparison's inputs and fingerprint it, before any work (arguments as :func:`compare`).

    Example:
        >>> from ctcdecode_kit.datasets import load_dataset
        >>> data = load_dataset("../shared/data/wav2vec2-logits")
        >>> plan = plan_comparison(data, decoders=["greedy"], vocabulary=data.vocabulary)
        >>> plan.labels, sorted(plan.fingerprint["data"]["items"])
        (['greedy'], ['121-121726-0000'])
    """
    utterances = tuple(utterances)
    if not utterances:
        raise InputError("the dataset is empty: nothing to compare")
    ids = [u.id for u in utterances]
    if len(set(ids)) != len(ids):
        raise InputError("utterance ids must be unique within the dataset")
    if model is not None:
        vocabulary, frame_rate = model.vocabulary, model.frame_rate
    if vocabulary is None:
        raise InputError("saved logits need a vocabulary (a vocab.json beside them or --vocab)")
    shared = SharedSettings(lm=lm, alpha=alpha, beta=beta, beam_width=beam_width, frame_rate=frame_rate or 50.0)
    specs = tuple(parse_decoder_spec(s) for s in (decoders or available_decoder_specs(lm is not None)))
    labels = spec_labels(specs)
    check_settings_used(specs, shared)
    record = {
        **(settings or {}),
        "decoders": labels,
        "lm": None if lm is None else str(lm) if isinstance(lm, (str, Path)) else type(lm).__name__,
        **shared.resolved(),
        "frame_rate": shared.frame_rate,
        "n_utterances": len(utterances),
    }
    needs_model = any(getattr(u, "logits", None) is None for u in utterances)
    fingerprint = {
        "command": "compare",
        "kit": __version__,
        "model": model_fingerprint(model) if needs_model else None,
        "acoustic": {"batch_size": batch_size, "chunk_length_s": CHUNK_LENGTH_S} if needs_model else None,
        "data": utterances_fingerprint(utterances),
        "vocabulary": digest(vocabulary.to_dict()),
        "frame_rate": shared.frame_rate,
        "decoders": labels,
        "lm": lm_fingerprint(lm) if any(s.use_lm for s in specs) else None,
        **shared.resolved(),
    }
    return ComparePlan(utterances, specs, shared, vocabulary, model, batch_size, record, fingerprint)


@dataclass
class RunOutput:
    """An opened output folder: where results go, the journal and the logits cache."""

    path: Path
    journal: Journal
    cache: LogitsCache


def open_output(plan: ComparePlan, output_dir: str | Path, *, resume: bool, overwrite: bool) -> RunOutput:
    """Check ``output_dir`` against the plan's fingerprint (refusing another run's folder), then open it."""
    out = ensure_output_dir(output_dir)
    RunFolder(out, COMPARE_FILES, ("logits",)).prepare(plan.fingerprint, resume=resume, overwrite=overwrite)
    header = {"run": digest(plan.fingerprint), "decoders": plan.labels}
    journal = Journal(out / "hyps.jsonl", header=header, resume=resume)
    return RunOutput(out, journal, LogitsCache(out / "logits", plan.ids))


class _Decoding:
    """The decode side of a run: which (decoder, utterance) pairs are done, and their records."""

    def __init__(self, plan: ComparePlan, decoders: dict[str, Decoder], output: RunOutput | None,
                 progress: Progress | None) -> None:
        self.plan, self.decoders, self.progress = plan, decoders, progress
        self.journal = output.journal if output is not None else None
        self.records = {(r["decoder"], r["id"]): r for r in (self.journal.records if self.journal else [])}
        self.counts = {label: sum(1 for (d, _) in self.records if d == label) for label in plan.labels}

    def unfinished(self, utt_id: str) -> bool:
        return any((label, utt_id) not in self.records for label in self.plan.labels)

    def report(self, task: str, done: int) -> None:
        if self.progress is not None:
            self.progress(task, done, len(self.plan.utterances))

    def decode(self, chunk: list[Any], arrays: list[np.ndarray]) -> None:
        """Decode one batch with every decoder that has not finished it, journaling the results."""
        lengths = [a.shape[0] for a in arrays]
        padded = np.zeros((len(arrays), max(lengths + [0]), len(self.plan.vocabulary)), dtype=np.float32)
        for i, a in enumerate(arrays):
            padded[i, : a.shape[0]] = a
        for label, decoder in self.decoders.items():
            todo = [i for i, u in enumerate(chunk) if (label, u.id) not in self.records]
            if not todo:
                continue
            t0 = time.perf_counter()
            hyps = decoder.decode(padded[todo], [lengths[i] for i in todo])
            seconds = (time.perf_counter() - t0) / len(todo)
            new = [_record(label, chunk[i], nbest[0], lengths[i], seconds) for i, nbest in zip(todo, hyps)]
            if self.journal is not None:
                self.journal.extend(new)
            self.records.update(((label, r["id"]), r) for r in new)
            self.counts[label] += len(new)
            self.report(label, self.counts[label])


def _record(label: str, utt: Any, best: Any, frames: int, seconds: float) -> dict[str, Any]:
    return {
        "decoder": label,
        "id": utt.id,
        "reference": utt.reference,
        "text": best.text,
        "score": best.score,
        "am_score": best.am_score,
        "lm_score": best.lm_score,
        "frames": frames,
        "decode_seconds": seconds,
        "words": [[w.text, w.start_time, w.end_time] for w in best.words],
    }


def _feed(plan: ComparePlan, decoding: _Decoding, cache: LogitsCache | None) -> float:
    """Acoustic batches to the decoders (one batch decoding while the next is computed); acoustic seconds."""
    todo = [u for u in plan.utterances if decoding.unfinished(u.id)]
    finished = len(plan.utterances) - len(todo)
    decoding.report("acoustic", finished)
    acoustic_seconds = 0.0
    pending: Future | None = None
    with ThreadPoolExecutor(max_workers=1) as worker:
        batches = iter_log_probs(todo, plan.model, plan.vocabulary, plan.batch_size, cache)
        while True:
            t0 = time.perf_counter()
            item = next(batches, None)
            acoustic_seconds += time.perf_counter() - t0
            if item is None:
                break
            finished += len(item[0])
            decoding.report("acoustic", finished)
            if pending is not None:
                pending.result()
            pending = worker.submit(decoding.decode, *item)
        if pending is not None:
            pending.result()
    return acoustic_seconds


def run_comparison(
    plan: ComparePlan,
    *,
    output_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Comparison:
    """Run a planned comparison (see :func:`compare` for the arguments)."""
    started = time.perf_counter()
    if output_dir is None and (resume or overwrite):
        raise InputError("resume and overwrite apply to an output folder; give output_dir")
    decoders: dict[str, Decoder] = {}
    try:
        for spec in plan.specs:  # every decoder is built (and every LM loaded) before the folder is touched
            decoders[spec.label] = build_from_spec(spec, plan.vocabulary, plan.shared, strict=False)
        output = open_output(plan, output_dir, resume=resume, overwrite=overwrite) if output_dir is not None else None
        decoding = _Decoding(plan, decoders, output, progress)
        for label in plan.labels:
            decoding.report(label, decoding.counts[label])
        acoustic_seconds = _feed(plan, decoding, output.cache if output is not None else None)
    finally:
        for decoder in decoders.values():
            close = getattr(decoder, "close", None)
            if close is not None:
                close()
    comparison = Comparison(
        summarise(decoding.records, plan.labels, plan.ids, frame_rate=plan.frame_rate),
        {**plan.settings, "versions": package_versions()},
        acoustic_seconds,
        time.perf_counter() - started,
        output.path if output is not None else None,
    )
    if output is not None:
        write_summary(comparison, output.path)
    return comparison


def compare(
    utterances: Sequence[Any],
    *,
    decoders: Sequence[str] | None = None,
    model: Any = None,
    vocabulary: Vocabulary | None = None,
    frame_rate: float | None = None,
    lm: str | Path | Any | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    beam_width: int | None = None,
    batch_size: int = 8,
    output_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
    settings: dict[str, Any] | None = None,
) -> Comparison:
    """Decode ``utterances`` with every decoder and score them against their references.

    Args:
        utterances: :class:`~ctcdecode_kit.datasets.Utterance` objects (audio, or saved
            logits in ``.logits``) with ``.id`` and ``.reference``.
        decoders: specs ``NAME[+lm][:key=value,...]`` (see :mod:`ctcdecode_kit.runs.specs`);
            None: every built-in decoder, with and without ``lm``.
        model: an :class:`~ctcdecode_kit.AcousticModel` for audio utterances.
        vocabulary / frame_rate: required for saved logits without a model.
        lm, alpha, beta, beam_width: settings shared by the decoders (None: not given;
            alpha 0.5, beta 1.0, beam width 100 apply). One that no decoder uses is an error.
        batch_size: utterances per acoustic and decoder batch.
        output_dir: where results are written as they are produced (None: nowhere). A
            folder holding another run's results is refused (see
            :mod:`ctcdecode_kit.runs.fingerprint`).
        resume: continue an interrupted run in ``output_dir`` (same settings only).
        overwrite: delete the results and logits a previous run wrote in ``output_dir`` first.
        progress: optional ``progress(task, done, total)`` callback.
        settings: extra entries for ``results.json``'s settings (e.g. the CLI's paths).

    Example:
        >>> from ctcdecode_kit.datasets import load_dataset
        >>> data = load_dataset("../shared/data/wav2vec2-logits")
        >>> compare(data, decoders=["greedy", "native"], vocabulary=data.vocabulary).results[1].wer
        0.0
    """
    plan = plan_comparison(
        utterances, decoders=decoders, model=model, vocabulary=vocabulary, frame_rate=frame_rate, lm=lm,
        alpha=alpha, beta=beta, beam_width=beam_width, batch_size=batch_size, settings=settings,
    )
    return run_comparison(plan, output_dir=output_dir, resume=resume, overwrite=overwrite, progress=progress)
