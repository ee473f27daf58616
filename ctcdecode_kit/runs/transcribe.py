"""Audio files -> text in one call: acoustic model, then any decoder.

Example:
    >>> from ctcdecode_kit import transcribe
    >>> hyp = transcribe(["../shared/data/misc-audio/jfk.flac"],
    ...                  model="facebook/wav2vec2-base-960h", decoder="greedy")[0]   # doctest: +SKIP
    >>> hyp.text.startswith("AND SO MY FELLOW AMERICANS")                           # doctest: +SKIP
    True
    >>> [(w.text, w.start_time, w.end_time) for w in hyp.words][:2]                # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..acoustic import AcousticModel
from ..decoder import Decoder
from ..errors import InputError
from ..hypothesis import Hypothesis
from .specs import build_from_spec, split_shared_options

__all__ = ["transcribe"]


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
