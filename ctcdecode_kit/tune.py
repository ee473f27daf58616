"""Search the LM weight ``alpha`` and word bonus ``beta`` for the lowest WER on a dev set.

The search is a successive grid refinement: a coarse 3x3 grid over the given ranges,
then 3x3 grids of half the spacing around the best point so far, until ``trials``
decodes are spent. A full grid of the same resolution needs several times more decodes.
Each trial decodes every utterance once (the decoder parallelises the batch); finished
trials are journaled to ``trials.jsonl`` so an interrupted search resumes where it stopped.

Example:
    >>> from ctcdecode_kit.tune import refinement_points
    >>> refinement_points((0.0, 2.0), (0.0, 4.0), center=None)[:3]
    [(0.0, 0.0), (0.0, 2.0), (0.0, 4.0)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .decoder import build_decoder
from .errors import InputError
from .results import Journal, atomic_write_json, ensure_output_dir
from .vocabulary import Vocabulary

__all__ = ["Trial", "TuneResult", "refinement_points", "tune"]


@dataclass(frozen=True)
class Trial:
    """One decode of the dev set at (alpha, beta)."""

    alpha: float
    beta: float
    wer: float
    cer: float
    seconds: float


@dataclass(frozen=True)
class TuneResult:
    """The best pair and every trial, in the order they ran."""

    best: Trial
    trials: tuple[Trial, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"best": asdict(self.best), "trials": [asdict(t) for t in self.trials]}


def refinement_points(
    alpha_range: tuple[float, float],
    beta_range: tuple[float, float],
    center: tuple[float, float] | None,
    level: int = 0,
) -> list[tuple[float, float]]:
    """The 3x3 grid of a refinement level: the full ranges at level 0, else around ``center``."""
    (a0, a1), (b0, b1) = alpha_range, beta_range
    if center is None:
        alphas, betas = np.linspace(a0, a1, 3), np.linspace(b0, b1, 3)
    else:
        da, db = (a1 - a0) / 2 ** (level + 1), (b1 - b0) / 2 ** (level + 1)
        alphas = np.clip(center[0] + np.array([-da, 0.0, da]), a0, a1)
        betas = np.clip(center[1] + np.array([-db, 0.0, db]), b0, b1)
    return [(round(float(a), 6), round(float(b), 6)) for a in alphas for b in betas]


def tune(
    log_probs: Sequence[np.ndarray],
    references: Sequence[str],
    vocabulary: Vocabulary,
    *,
    lm: Any,
    decoder: str = "pyctcdecode",
    alpha_range: tuple[float, float] = (0.0, 2.0),
    beta_range: tuple[float, float] = (-2.0, 4.0),
    trials: int = 20,
    beam_width: int = 50,
    output_dir: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[Trial, int, int], None] | None = None,
    decoder_options: dict[str, Any] | None = None,
) -> TuneResult:
    """Find (alpha, beta) with the lowest corpus WER within ``trials`` decodes.

    Args:
        log_probs: one ``[T, V]`` array per dev utterance.
        references: their transcripts.
        lm: path to an ARPA/KenLM file, or a LanguageModel object.
        decoder: a beam backend that takes ``lm``/``alpha``/``beta`` (``pyctcdecode``, ``native``).
    """
    from .metrics import score

    if len(log_probs) != len(references) or not references:
        raise InputError(
            f"tune needs one reference per utterance, got {len(log_probs)} logits and {len(references)} references"
        )
    if trials < 1:
        raise InputError(f"trials must be >= 1, got {trials}")
    for name, (low, high) in (("alpha_range", alpha_range), ("beta_range", beta_range)):
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise InputError(f"{name} must be two finite numbers LOW <= HIGH, got {(low, high)}")
    lengths = [a.shape[0] for a in log_probs]
    padded = np.zeros((len(log_probs), max(lengths), len(vocabulary)), dtype=np.float32)
    for i, a in enumerate(log_probs):
        padded[i, : a.shape[0]] = a
    journal = None
    if output_dir is not None:
        out = ensure_output_dir(output_dir)
        header = {
            "decoder": decoder,
            "lm": str(lm) if isinstance(lm, (str, Path)) else type(lm).__name__,
            "alpha_range": list(alpha_range),
            "beta_range": list(beta_range),
            "beam_width": beam_width,
            "n_utterances": len(references),
        }
        journal = Journal(out / "trials.jsonl", header=header, resume=resume)
    done: dict[tuple[float, float], Trial] = {}
    order: list[Trial] = []
    for record in journal.records if journal else []:
        trial = Trial(**record)
        done[(trial.alpha, trial.beta)] = trial
        order.append(trial)

    def run(alpha: float, beta: float) -> Trial:
        if (alpha, beta) in done:
            return done[(alpha, beta)]
        import time

        t0 = time.perf_counter()
        options = {"beam_width": beam_width, **(decoder_options or {})}
        dec = build_decoder(decoder, vocabulary, lm=lm, alpha=alpha, beta=beta, **options)
        try:
            hyps = dec.decode(padded, lengths)
        finally:
            close = getattr(dec, "close", None)
            if close is not None:
                close()
        scores = score(list(references), [h[0].text for h in hyps])
        trial = Trial(alpha, beta, scores.wer, scores.cer, time.perf_counter() - t0)
        done[(alpha, beta)] = trial
        order.append(trial)
        if journal is not None:
            journal.append(asdict(trial))
        if progress is not None:
            progress(trial, len(order), trials)
        return trial

    def best_so_far() -> Trial:
        return min(done.values(), key=lambda t: (t.wer, t.cer, abs(t.alpha), abs(t.beta)))

    level, center = 0, None
    while len(done) < trials:
        points = [p for p in refinement_points(alpha_range, beta_range, center, level) if p not in done]
        if not points and level > 30:
            break
        for point in points:
            if len(done) >= trials:
                break
            run(*point)
        center = (best_so_far().alpha, best_so_far().beta)
        level += 1
    best = best_so_far()
    result = TuneResult(best, tuple(order))
    if output_dir is not None:
        atomic_write_json(Path(output_dir) / "tune.json", result.to_dict())
    return result
