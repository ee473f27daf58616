"""Search the LM weight ``alpha`` and word bonus ``beta`` for the lowest WER on a dev set.

The search is a successive grid refinement: a coarse 3x3 grid over the given ranges,
then 3x3 grids of half the spacing around the best point so far, until ``trials``
decodes are spent. A full grid of the same resolution needs several times more decodes.

The decoder is built once from its spec (through the same parser and option builder as
``compare``, so its language model is loaded once); each trial derives a decoder with
the trial's weights from it (``decoder.with_options(alpha=..., beta=...)``), sharing
the loaded LM. Each trial decodes every utterance once (the decoder parallelises the
batch); with ``ray=ADDRESS`` the trials of each refinement level run as parallel Ray tasks
over the same logits, put in the object store once (each worker process loads the LM once).
Finished trials are journaled to ``trials.jsonl`` so an interrupted search
resumes where it stopped, and the output folder records what produced it (``run.json``,
see :mod:`ctcdecode_kit.runs.fingerprint`).

Example:
    >>> from ctcdecode_kit.runs.tune import refinement_points
    >>> refinement_points((0.0, 2.0), (0.0, 4.0), center=None)[:3]
    [(0.0, 0.0), (0.0, 2.0), (0.0, 4.0)]
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..decoder import Decoder
from ..errors import InputError
from ..vocabulary import Vocabulary
from .fingerprint import RunFolder, array_digest, digest, lm_fingerprint
from .journal import Journal, atomic_write_json, ensure_output_dir
from .specs import DecoderSpec, SharedSettings, build_from_spec, parse_decoder_spec
from .specs import decoder_options as spec_options

__all__ = ["TUNE_FILES", "TunePlan", "Trial", "TuneResult", "plan_tune", "refinement_points", "run_tune", "tune"]

TUNE_BEAM_WIDTH = 50
"""The beam width of the tuning decodes unless given (narrower than compare's 100: many decodes)."""

TUNE_FILES = ("trials.jsonl", "tune.json")
"""The files a search writes in its output folder (besides ``run.json``)."""


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
        """The JSON form written to ``tune.json``."""
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


@dataclass(frozen=True)
class TunePlan:
    """A checked search: the padded dev set, the decoder spec and the fingerprint of both."""

    padded: np.ndarray
    lengths: tuple[int, ...]
    references: tuple[str, ...]
    vocabulary: Vocabulary
    spec: DecoderSpec
    shared: SharedSettings
    alpha_range: tuple[float, float]
    beta_range: tuple[float, float]
    fingerprint: dict[str, Any]


def _check_ranges(alpha_range: tuple[float, float], beta_range: tuple[float, float]) -> None:
    for name, (low, high) in (("alpha_range", alpha_range), ("beta_range", beta_range)):
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise InputError(f"{name} must be two finite numbers LOW <= HIGH, got {(low, high)}")


def plan_tune(
    log_probs: Sequence[np.ndarray],
    references: Sequence[str],
    vocabulary: Vocabulary,
    *,
    lm: Any,
    decoder: str = "native",
    alpha_range: tuple[float, float] = (0.0, 2.0),
    beta_range: tuple[float, float] = (-2.0, 4.0),
    beam_width: int | None = None,
    decoder_options: dict[str, Any] | None = None,
) -> TunePlan:
    """Check a search's inputs and fingerprint them (arguments as :func:`tune`).

    Example:
        >>> from ctcdecode_kit import Vocabulary
        >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A"])
        >>> plan = plan_tune([np.zeros((3, 3), np.float32)], ["A"], vocab, lm="lm.arpa", decoder="native")
        >>> plan.spec.label, plan.shared.beam_width
        ('native', 50)
    """
    if len(log_probs) != len(references) or not references:
        raise InputError(
            f"tune needs one reference per utterance, got {len(log_probs)} logits and {len(references)} references"
        )
    _check_ranges(alpha_range, beta_range)
    if lm is None:
        raise InputError("tune searches the weights of a language model; pass lm (--lm PATH)")
    spec = parse_decoder_spec(decoder)
    spec = replace(spec, use_lm=True, options={**spec.options, **(decoder_options or {})})
    shared = SharedSettings(lm=lm, beam_width=TUNE_BEAM_WIDTH if beam_width is None else beam_width)
    lengths = tuple(int(a.shape[0]) for a in log_probs)
    padded = np.zeros((len(log_probs), max(lengths), len(vocabulary)), dtype=np.float32)
    h = hashlib.blake2b(digest_size=12)
    for i, a in enumerate(log_probs):
        padded[i, : a.shape[0]] = a
        h.update(array_digest(a).encode())
    fingerprint = {
        "command": "tune",
        "kit": __version__,
        "log_probs": h.hexdigest(),
        "references": digest(list(references)),
        "vocabulary": digest(vocabulary.to_dict()),
        "decoder": spec.label,
        "decoder_options": spec.options,
        "lm": lm_fingerprint(lm),
        "beam_width": shared.beam_width,
        "alpha_range": list(alpha_range),
        "beta_range": list(beta_range),
    }
    return TunePlan(padded, lengths, tuple(references), vocabulary, spec, shared, tuple(alpha_range),
                    tuple(beta_range), fingerprint)


def _weights(options: dict[str, Any], alpha: float, beta: float) -> dict[str, Any]:
    """The weight options of a backend: ``alpha``/``beta``, or ``rescore``'s ``alphas``/``beta``."""
    return {"alphas": [alpha], "beta": beta} if "alphas" in options else {"alpha": alpha, "beta": beta}


def _close(decoder: Any) -> None:
    close = getattr(decoder, "close", None)
    if close is not None:
        close()


def _decode_trial(plan: TunePlan, base: Decoder, weight_options: dict[str, Any], alpha: float, beta: float) -> Trial:
    """One trial: ``base`` with the trial's weights (sharing its LM) decodes the dev set."""
    from ..metrics import score

    t0 = time.perf_counter()
    decoder = base.with_options(**_weights(weight_options, alpha, beta))  # type: ignore[attr-defined]
    try:
        hyps = decoder.decode(plan.padded, list(plan.lengths))
    finally:
        _close(decoder)
    scores = score(list(plan.references), [h[0].text for h in hyps])
    return Trial(alpha, beta, scores.wer, scores.cer, time.perf_counter() - t0)


def _ray_trial(plan: TunePlan, alpha: float, beta: float) -> Trial:
    """A trial as a Ray task: the plan (logits included) comes from the object store; the LM is
    loaded once per worker process (lm/cache.py)."""
    base = build_from_spec(plan.spec, plan.vocabulary, plan.shared)
    try:
        return _decode_trial(plan, base, spec_options(plan.spec, plan.shared), alpha, beta)
    finally:
        _close(base)


class _Search:
    """The trials of one search: finished ones (from the journal) and new ones.

    Each refinement level's new points run together: one after another here, or as
    parallel Ray tasks (``ray``); either way they are recorded in the level's order, so
    the same grid gives the same trials and the same best point.
    """

    def __init__(self, plan: TunePlan, base: Decoder | None, journal: Journal | None, total: int,
                 progress: Callable[[Trial, int, int], None] | None, ray: str | None = None,
                 ray_options: Any = None) -> None:
        self.plan, self.base, self.journal, self.total, self.progress = plan, base, journal, total, progress
        self.ray, self.ray_options = ray, ray_options
        self.weight_options = spec_options(plan.spec, plan.shared)
        self.order = [Trial(**record) for record in (journal.records if journal else [])]
        self.done = {(t.alpha, t.beta): t for t in self.order}

    def _record(self, trial: Trial) -> None:
        self.done[(trial.alpha, trial.beta)] = trial
        self.order.append(trial)
        if self.journal is not None:
            self.journal.append(asdict(trial))
        if self.progress is not None:
            self.progress(trial, len(self.order), self.total)

    def run_many(self, points: Sequence[tuple[float, float]]) -> None:
        """Run the points not done yet, recording them in the given order."""
        todo = [p for p in dict.fromkeys(points) if p not in self.done]
        if self.ray is not None and todo:
            from .ray_runner import RayOptions, run_tasks

            options = self.ray_options or RayOptions()
            for trial in run_tasks(self.ray, _ray_trial, todo, shared=self.plan, num_cpus=options.decoder_cpus,
                                   init=options.init):
                self._record(trial)
            return
        for alpha, beta in todo:
            self._record(_decode_trial(self.plan, self.base, self.weight_options, alpha, beta))  # type: ignore[arg-type]

    def best(self) -> Trial:
        return min(self.done.values(), key=lambda t: (t.wer, t.cer, abs(t.alpha), abs(t.beta)))

    def refine(self) -> None:
        """Grids of halving spacing around the best point until ``total`` trials are done."""
        level, center = 0, None
        while len(self.done) < self.total:
            points = [p for p in dict.fromkeys(
                refinement_points(self.plan.alpha_range, self.plan.beta_range, center, level)) if p not in self.done]
            if not points and level > 30:
                break
            self.run_many(points[: self.total - len(self.done)])
            center = (self.best().alpha, self.best().beta)
            level += 1


def run_tune(
    plan: TunePlan,
    *,
    trials: int = 20,
    output_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[Trial, int, int], None] | None = None,
    ray: str | None = None,
    ray_options: Any = None,
) -> TuneResult:
    """Run a planned search (see :func:`tune` for the arguments)."""
    if trials < 1:
        raise InputError(f"trials must be >= 1, got {trials}")
    if ray is not None:
        from .ray_runner import connect

        connect(ray, getattr(ray_options, "init", None))  # fails clearly before the folder is touched
    base = None if ray is not None else build_from_spec(plan.spec, plan.vocabulary, plan.shared)
    try:
        journal = None
        if output_dir is not None:
            out = ensure_output_dir(output_dir)
            RunFolder(out, TUNE_FILES).prepare(plan.fingerprint, resume=resume, overwrite=overwrite)
            journal = Journal(out / "trials.jsonl", header={"run": digest(plan.fingerprint)}, resume=resume)
        elif resume or overwrite:
            raise InputError("resume and overwrite apply to an output folder; give output_dir")
        search = _Search(plan, base, journal, trials, progress, ray, ray_options)
        search.refine()
    finally:
        if base is not None:
            _close(base)
    result = TuneResult(search.best(), tuple(search.order))
    if output_dir is not None:
        atomic_write_json(Path(output_dir) / "tune.json", result.to_dict())
    return result


def tune(
    log_probs: Sequence[np.ndarray],
    references: Sequence[str],
    vocabulary: Vocabulary,
    *,
    lm: Any,
    decoder: str = "native",
    alpha_range: tuple[float, float] = (0.0, 2.0),
    beta_range: tuple[float, float] = (-2.0, 4.0),
    trials: int = 20,
    beam_width: int | None = None,
    output_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[Trial, int, int], None] | None = None,
    decoder_options: dict[str, Any] | None = None,
    ray: str | None = None,
    ray_options: Any = None,
) -> TuneResult:
    """Find (alpha, beta) with the lowest corpus WER within ``trials`` decodes.

    Args:
        log_probs: one ``[T, V]`` array per dev utterance.
        references: their transcripts.
        lm: path to an ARPA/KenLM file, or a LanguageModel object.
        decoder: a spec ``NAME[:key=value,...]`` of a decoder that takes an LM
            (``pyctcdecode``, ``native``, ``rescore``); ``+lm`` is implied.
        beam_width: the beam width (None: 50).
        output_dir / resume / overwrite: as in :func:`~ctcdecode_kit.runs.compare.compare`.
        decoder_options: more backend options (as in the spec).
        ray: run each refinement level's trials as parallel Ray tasks over the same logits
            (put in the object store once): ``auto``, ``local``, ``ray://host:port`` or
            ``host:port`` (see :mod:`ctcdecode_kit.runs.ray_runner`). Same trials, same best.
        ray_options: a :class:`~ctcdecode_kit.runs.ray_runner.RayOptions` (CPUs per task).

    Example:
        >>> from ctcdecode_kit.datasets import load_dataset
        >>> from ctcdecode_kit.runs.logits_cache import utterance_log_probs
        >>> data = load_dataset("../shared/data/wav2vec2-logits")
        >>> arrays = utterance_log_probs(data, None, data.vocabulary)
        >>> result = tune(arrays, data.references, data.vocabulary, lm="../shared/data/kenlm/test.arpa",
        ...               decoder="native", trials=2, beam_width=8)
        >>> len(result.trials)
        2
    """
    plan = plan_tune(
        log_probs, references, vocabulary, lm=lm, decoder=decoder, alpha_range=alpha_range,
        beta_range=beta_range, beam_width=beam_width, decoder_options=decoder_options,
    )
    return run_tune(plan, trials=trials, output_dir=output_dir, resume=resume, overwrite=overwrite,
                    progress=progress, ray=ray, ray_options=ray_options)
