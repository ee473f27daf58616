"""Run several decoders on the same logits and compare their WER, CER and speed.

:func:`compare` is four steps, each its own function:

1. plan (:func:`plan_comparison`): check the inputs, parse the decoder specs
   (:mod:`ctcdecode_kit.runs.specs`) and fingerprint everything the results depend on;
2. output (:func:`open_output`): check the output folder against that fingerprint
   (``run.json``, see :mod:`ctcdecode_kit.runs.fingerprint`), open the journal and the
   logits cache;
3. run (:func:`run_comparison`): the acoustic model (or the saved / cached logits) feeds
   batches to every decoder, through one of two runners over the same engine
   (:mod:`ctcdecode_kit.runs.engine`): in this process (while the decoders work on batch N
   in a background thread, the acoustic model already computes batch N+1), or on a Ray
   cluster (``ray=ADDRESS``, :mod:`ctcdecode_kit.runs.ray_runner`: an acoustic actor pool
   and one CPU actor pool per decoder). Both write the same files;
4. report (:mod:`ctcdecode_kit.runs.outputs`): corpus scores, ``results.json`` /
   ``results.csv`` / ``wer_vs_time.png``, written atomically.

In the output folder, as it goes:

* ``run.json``: what produced the folder (written first);
* ``hyps.jsonl``: one line per (decoder, utterance), fsynced per batch (the journal that
  ``resume=True`` continues from; see :mod:`ctcdecode_kit.runs.journal`). Lines are in
  the order batches finished: dataset order in one process, block completion order on
  Ray. Sorted by ``(decoder, id)`` the file is the same whichever runner wrote it (timings
  excepted), and no (decoder, id) pair appears twice;
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._version import __version__, package_versions
from ..errors import InputError
from ..vocabulary import Vocabulary
from .engine import Progress, RunPlan, Sink, build_decoders, close_decoders, feed_local
from .fingerprint import RunFolder, digest, lm_fingerprint, model_fingerprint, utterances_fingerprint
from .journal import Journal, ensure_output_dir
from .logits_cache import LogitsCache, utterance_log_probs
from .outputs import Comparison, DecoderResult, summarise, write_summary
from .specs import (
    SharedSettings,
    available_decoder_specs,
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

COMPARE_FILES = ("hyps.jsonl", "results.json", "results.csv", "wer_vs_time.png", "report.html")
"""The files a comparison writes in its output folder (besides ``run.json`` and ``logits/``)."""

CHUNK_LENGTH_S = 30.0
"""Audio longer than this goes through the model in overlapping chunks (AcousticModel.iter_logits' default)."""

ComparePlan = RunPlan
"""A comparison's plan is the engine's :class:`~ctcdecode_kit.runs.engine.RunPlan`."""


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
    nbest: int | None = None,
    baseline: str | None = None,
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
    from ..report.analysis import check_report_options

    report_options = check_report_options(labels, nbest=nbest, baseline=baseline)  # {"nbest": K, "baseline": B} as given
    record = {
        **(settings or {}),
        **report_options,
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
        **({"nbest": report_options["nbest"]} if "nbest" in report_options else {}),
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


def run_comparison(
    plan: ComparePlan,
    *,
    output_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
    ray: str | None = None,
    ray_options: Any = None,
    report: bool = True,
) -> Comparison:
    """Run a planned comparison (see :func:`compare` for the arguments)."""
    started = time.perf_counter()
    if output_dir is None and (resume or overwrite):
        raise InputError("resume and overwrite apply to an output folder; give output_dir")
    if ray is not None:
        from . import ray_runner

        runner = ray_runner.RayRunner(ray, ray_options)
        plan = runner.prepare(plan)  # connects and checks every spec before the folder is touched
        output = open_output(plan, output_dir, resume=resume, overwrite=overwrite) if output_dir is not None else None
        sink = Sink(plan.labels, len(plan.utterances), output.journal if output else None, progress)
        sink.report_all()
        acoustic_seconds = runner.feed(plan, sink, output.cache if output is not None else None)
    else:
        decoders = build_decoders(plan.specs, plan.vocabulary, plan.shared)  # every LM loaded before the folder is touched
        try:
            output = open_output(plan, output_dir, resume=resume, overwrite=overwrite) if output_dir is not None else None
            sink = Sink(plan.labels, len(plan.utterances), output.journal if output else None, progress)
            sink.report_all()
            acoustic_seconds = feed_local(plan, decoders, sink, output.cache if output is not None else None)
        finally:
            close_decoders(decoders)
    comparison = Comparison(
        summarise(sink.records, plan.labels, plan.ids, frame_rate=plan.frame_rate),
        {**plan.settings, "versions": package_versions()},
        acoustic_seconds,
        time.perf_counter() - started,
        output.path if output is not None else None,
    )
    if output is not None:
        write_summary(comparison, output.path)
        from ..report import report_run  # adds the report's numbers to results.json, writes report.html

        report_run(output.path, sink.records, plan.labels, lm=plan.shared.lm, vocabulary=plan.vocabulary,
                   baseline=plan.settings.get("baseline"), html=report)
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
    ray: str | None = None,
    ray_options: Any = None,
    nbest: int | None = None,
    baseline: str | None = None,
    report: bool = True,
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
        ray: run on Ray instead of in this process: ``"auto"`` (a running cluster),
            ``"local"`` (start one here), ``"ray://host:port"`` or ``"host:port"``; see
            :mod:`ctcdecode_kit.runs.ray_runner`. Same outputs; not part of the fingerprint.
        ray_options: a :class:`~ctcdecode_kit.runs.ray_runner.RayOptions` (actor pool sizes).
        nbest: keep this many hypotheses per utterance in ``hyps.jsonl`` (field ``nbest``),
            for the report's n-best oracle WER (None: the best one only).
        baseline: the decoder the report compares the others with (None: ``greedy`` when
            present, else the first decoder); see :mod:`ctcdecode_kit.report`.
        report: write ``report.html`` into ``output_dir`` (the report's numbers go into
            ``results.json`` either way).

    Example:
        >>> from ctcdecode_kit.datasets import load_dataset
        >>> data = load_dataset("../shared/data/wav2vec2-logits")
        >>> compare(data, decoders=["greedy", "native"], vocabulary=data.vocabulary).results[1].wer
        0.0
    """
    plan = plan_comparison(
        utterances, decoders=decoders, model=model, vocabulary=vocabulary, frame_rate=frame_rate, lm=lm,
        alpha=alpha, beta=beta, beam_width=beam_width, batch_size=batch_size, settings=settings,
        nbest=nbest, baseline=baseline,
    )
    return run_comparison(plan, output_dir=output_dir, resume=resume, overwrite=overwrite, progress=progress,
                          ray=ray, ray_options=ray_options, report=report)
