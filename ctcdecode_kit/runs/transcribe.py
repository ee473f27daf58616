"""Audio files -> text in one call: acoustic model, then any decoder.

Example:
    >>> from ctcdecode_kit import transcribe
    >>> hyp = transcribe(["../shared/data/misc-audio/jfk.flac"],
    ...                  model="facebook/wav2vec2-base-960h", decoder="greedy")[0]   # doctest: +SKIP
    >>> hyp.text.startswith("AND SO MY FELLOW AMERICANS")                           # doctest: +SKIP
    True
    >>> [(w.text, w.start_time, w.end_time) for w in hyp.words][:2]                # doctest: +SKIP

A whole dataset, for pseudo-labelling (:func:`transcribe_dataset`): one JSONL line per
utterance in ``<output>/transcripts.jsonl`` (``id``, ``path``, ``decoder``, ``text``,
``score``, ``am_score``, ``lm_score``, ``words`` with start and end times in seconds),
fsynced as batches finish, resumable, in one process or on Ray (``ray=ADDRESS``). Lines are
in the order batches finished; sorted by ``id`` the file is the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..acoustic import AcousticModel
from ..decoder import Decoder
from ..errors import InputError
from ..hypothesis import Hypothesis
from .specs import SharedSettings, build_from_spec, decoder_options, single_decoder_spec, split_shared_options

__all__ = ["TRANSCRIBE_FILES", "plan_transcription", "transcribe", "transcribe_dataset"]

TRANSCRIBE_FILES = ("transcripts.jsonl",)
"""The file :func:`transcribe_dataset` writes in its output folder (besides ``run.json``)."""


def _with_times(hyp: Hypothesis, frame_rate: float) -> Hypothesis:
    if all(w.start_time is not None for w in hyp.words):
        return hyp
    return replace(hyp, words=tuple(w.with_frame_rate(frame_rate) if w.start_frame >= 0 else w for w in hyp.words))


def transcribe(
    paths: Any,
    model: AcousticModel | str | Path,
    decoder: str | Decoder = "greedy",
    *,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    batch_size: int = 8,
    chunk_length_s: float | None = 30.0,
    stride_length_s: float | tuple[float, float] | None = None,
    **decoder_options: Any,
) -> list[Hypothesis]:
    """Transcribe audio files (or waveforms at the model's rate); one best hypothesis each.

    Args:
        paths: an audio file path, a list of them, or 1-D float waveforms sampled at
            ``model.sampling_rate``.
        model: an :class:`~ctcdecode_kit.AcousticModel`, or a hub id / folder to load one
            from (with ``device`` and ``dtype``).
        decoder: a decoder spec ``NAME[+lm][:key=value,...]`` (see
            :mod:`ctcdecode_kit.runs.specs`; built with ``frame_rate=model.frame_rate`` and
            ``decoder_options``, e.g. ``beam_width=50, lm="lm.arpa", alpha=0.5``; an ``lm``
            given to a beam decoder means ``NAME+lm``, and an option the decoder does not
            use is an error), or a ready :class:`~ctcdecode_kit.Decoder` for ``model.vocabulary``.
        batch_size, chunk_length_s, stride_length_s: see :meth:`AcousticModel.iter_logits`.

    Returns:
        One :class:`~ctcdecode_kit.Hypothesis` per input, in input order, with word
        timestamps in seconds.

    Example:
        >>> [h.text for h in transcribe("speech.flac", model="facebook/wav2vec2-base-960h",
        ...                             decoder="pyctcdecode", beam_width=50)]       # doctest: +SKIP
        ['HELLO WORLD']
    """
    if not isinstance(model, AcousticModel):
        if not isinstance(model, (str, Path)):
            raise InputError(f"model must be an AcousticModel, a hub id or a model folder, got {type(model).__name__}")
        model = AcousticModel.from_pretrained(model, device=device, dtype=dtype)
    elif device is not None or dtype is not None:
        raise InputError("device and dtype apply when transcribe loads the model; this AcousticModel is already loaded")
    if isinstance(decoder, str):
        shared, extra = split_shared_options({"frame_rate": model.frame_rate, **decoder_options})
        built = build_from_spec(decoder, model.vocabulary, shared, extra=extra)
    elif hasattr(decoder, "decode"):
        if decoder_options:
            raise InputError(
                f"decoder options {sorted(decoder_options)} apply only to a decoder given by name; this decoder "
                f"is already built"
            )
        vocabulary = getattr(decoder, "vocabulary", None)
        if vocabulary is not None and len(vocabulary) != len(model.vocabulary):
            raise InputError(
                f"the decoder's vocabulary has {len(vocabulary)} tokens but model {model.name!r} outputs "
                f"{len(model.vocabulary)} classes"
            )
        built = decoder
    else:
        raise InputError(f"decoder must be a decoder name or a Decoder, got {type(decoder).__name__}")
    inputs = [paths] if isinstance(paths, (str, Path, np.ndarray, torch.Tensor)) else list(paths)
    results: list[Hypothesis | None] = [None] * len(inputs)
    try:
        for batch in model.iter_logits(
            inputs,
            model.sampling_rate,
            batch_size,
            chunk_length_s=chunk_length_s,
            stride_length_s=stride_length_s,
        ):
            for index, nbest in zip(batch.indices, built.decode(batch.logits, batch.lengths)):
                results[index] = _with_times(nbest[0], model.frame_rate)
    finally:
        if built is not decoder:  # built here from a spec: release its workers
            close = getattr(built, "close", None)
            if close is not None:
                close()
    return results  # type: ignore[return-value]


def plan_transcription(
    utterances: Sequence[Any],
    model: AcousticModel,
    decoder: str = "greedy",
    *,
    lm: str | Path | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    beam_width: int | None = None,
    batch_size: int = 8,
    settings: dict[str, Any] | None = None,
) -> Any:
    """Check a dataset transcription and fingerprint it (arguments as :func:`transcribe_dataset`).

    Example:
        >>> from ctcdecode_kit import AcousticModel, load_dataset
        >>> from ctcdecode_kit.default import default_assets
        >>> assets = default_assets()
        >>> model = AcousticModel.from_pretrained(assets.model_dir, device="cpu")
        >>> plan_transcription(load_dataset(assets.eval_dir)[:2], model, "native").labels
        ['native']
    """
    from .._version import __version__
    from .compare import CHUNK_LENGTH_S
    from .engine import RunPlan
    from .fingerprint import digest, lm_fingerprint, model_fingerprint, utterances_fingerprint

    utterances = tuple(utterances)
    if not utterances:
        raise InputError("the dataset is empty: nothing to transcribe")
    if len({u.id for u in utterances}) != len(utterances):
        raise InputError("utterance ids must be unique within the dataset")
    if not isinstance(model, AcousticModel):
        raise InputError(f"model must be an AcousticModel, got {type(model).__name__}")
    shared = SharedSettings(lm=lm, alpha=alpha, beta=beta, beam_width=beam_width, frame_rate=model.frame_rate)
    spec = single_decoder_spec(decoder, shared)
    decoder_options(spec, shared)  # a setting this decoder would not use is an error
    fingerprint = {
        "command": "transcribe",
        "kit": __version__,
        "model": model_fingerprint(model),
        "acoustic": {"batch_size": batch_size, "chunk_length_s": CHUNK_LENGTH_S},
        "data": utterances_fingerprint(utterances),
        "vocabulary": digest(model.vocabulary.to_dict()),
        "frame_rate": shared.frame_rate,
        "decoder": spec.label,
        "lm": lm_fingerprint(lm) if spec.use_lm or spec.backend == "rescore" else None,
        **shared.resolved(),
    }
    record = {**(settings or {}), "decoder": spec.label, "n_utterances": len(utterances)}
    return RunPlan(utterances, (spec,), shared, model.vocabulary, model, batch_size, record, fingerprint)


def _transcript_line(record: dict[str, Any], path: Any) -> dict[str, Any]:
    return {
        "id": record["id"],
        "path": None if path is None else str(path),
        "decoder": record["decoder"],
        "text": record["text"],
        "score": record["score"],
        "am_score": record["am_score"],
        "lm_score": record["lm_score"],
        "words": [{"word": w, "start": start, "end": end} for w, start, end in record["words"]],
    }


def transcribe_dataset(
    utterances: Sequence[Any],
    model: AcousticModel,
    decoder: str = "greedy",
    *,
    output_dir: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    lm: str | Path | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    beam_width: int | None = None,
    batch_size: int = 8,
    progress: Any = None,
    settings: dict[str, Any] | None = None,
    ray: str | None = None,
    ray_options: Any = None,
) -> Path:
    """Transcribe every utterance of a dataset into ``<output_dir>/transcripts.jsonl``.

    The run's ``run.json`` fingerprints the model, the data and the decoder; ``resume``
    continues an interrupted run (the same settings only), skipping finished utterances,
    and never writes an utterance twice. The runner (one process, or Ray with ``ray``) is
    not part of the fingerprint.

    Args:
        utterances: :class:`~ctcdecode_kit.datasets.Utterance` objects (audio); references may be empty.
        model: the acoustic model.
        decoder: a spec ``NAME[+lm][:key=value,...]`` (an ``lm`` given to a beam decoder means ``+lm``).
        output_dir / resume / overwrite: as in :func:`~ctcdecode_kit.runs.compare.compare`.
        lm, alpha, beta, beam_width, batch_size: the decoder's and the model's settings.
        progress: optional ``progress(task, done, total)`` callback.
        ray, ray_options: run on Ray (see :mod:`ctcdecode_kit.runs.ray_runner`).

    Returns:
        The path of ``transcripts.jsonl``.

    Example:
        >>> import tempfile, json
        >>> from ctcdecode_kit import AcousticModel, load_dataset
        >>> from ctcdecode_kit.default import default_assets
        >>> assets = default_assets()
        >>> model = AcousticModel.from_pretrained(assets.model_dir, device="cpu")
        >>> out = transcribe_dataset(load_dataset(assets.eval_dir)[:2], model, output_dir=tempfile.mkdtemp())
        >>> sorted(json.loads(line)["id"] for line in out.read_text().splitlines())
        ['web-0000', 'web-0001']
    """
    from .engine import Sink, build_decoders, close_decoders, feed_local
    from .fingerprint import RunFolder
    from .journal import Journal, ensure_output_dir

    plan = plan_transcription(utterances, model, decoder, lm=lm, alpha=alpha, beta=beta, beam_width=beam_width,
                              batch_size=batch_size, settings=settings)
    paths = {u.id: getattr(u, "path", None) for u in plan.utterances}

    def open_sink(plan: Any) -> Sink:
        out = ensure_output_dir(output_dir)
        RunFolder(out, TRANSCRIBE_FILES).prepare(plan.fingerprint, resume=resume, overwrite=overwrite)
        journal = Journal(out / TRANSCRIBE_FILES[0], header=None, resume=resume)
        sink = Sink(plan.labels, len(plan.utterances), journal, progress,
                    to_line=lambda r: _transcript_line(r, paths.get(r["id"])))
        sink.report_all()
        return sink

    if ray is not None:
        from .ray_runner import RayRunner

        runner = RayRunner(ray, ray_options)
        plan = runner.prepare(plan)
        runner.feed(plan, open_sink(plan), None)
    else:
        decoders = build_decoders(plan.specs, plan.vocabulary, plan.shared)  # the LM loads before the folder is touched
        try:
            feed_local(plan, decoders, open_sink(plan), None)
        finally:
            close_decoders(decoders)
    return Path(output_dir) / TRANSCRIBE_FILES[0]
