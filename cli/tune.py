"""``ctcdecode-kit tune``: search alpha and beta on a dev set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from .common import (
    OVERWRITE_HELP, RAY_HELP, friendly_errors, load_inputs, parse_range, ray_options, repo_lm_settings, run_names,
)



@friendly_errors
def tune(
    lm: Path | None = typer.Option(None, "--lm", help="ARPA or KenLM binary LM (default: a '-with-lm' model's own)."),
    model: str | None = typer.Option(None, "--model", "-m", help="HF model id or local dir (default: embedded model)."),
    data: Path | None = typer.Option(None, "--data", help="Audio dev set."),
    logits: Path | None = typer.Option(None, "--logits", help="Saved-logits dev set."),
    vocab: Path | None = typer.Option(None, "--vocab", help="Vocabulary for --logits."),
    decoder: str = typer.Option(
        "native", "--decoder", "-d", help="Decoder spec to tune NAME[:key=value,...] (native, pyctcdecode, rescore)."
    ),
    alpha_range: str = typer.Option("0,2", "--alpha-range", help="LOW,HIGH for alpha."),
    beta_range: str = typer.Option("-2,4", "--beta-range", help="LOW,HIGH for beta."),
    trials: int = typer.Option(20, "--trials", help="Number of decodes of the dev set."),
    beam_width: int | None = typer.Option(None, "--beam-width", help="Beam width (default: 50)."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, ..."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Results folder (default: ctcdecode-kit-runs/tune-<data>-<model>-<hash>)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted search (same settings)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    ray: str | None = typer.Option(None, "--ray", help=RAY_HELP + " Each level's trials run as parallel Ray tasks."),
) -> None:
    """Search alpha/beta for the lowest WER on a dev set (grid refinement, resumable).

    Example: ctcdecode-kit tune --lm lm.arpa --logits dev-logits/ --trials 20
    """
    from ctcdecode_kit.errors import InputError
    from ctcdecode_kit.runs.fingerprint import default_output_dir
    from ctcdecode_kit.runs.journal import ensure_output_dir
    from ctcdecode_kit.runs.logits_cache import utterance_log_probs
    from ctcdecode_kit.runs.tune import plan_tune, run_tune

    if output is not None:
        ensure_output_dir(output)
    acoustic, utterances, vocabulary, _rate, settings = load_inputs(model, data, logits, vocab, device)
    lm, _alpha, _beta = repo_lm_settings(acoustic, lm, None, None)  # a "-with-lm" model's LM
    if lm is None:
        raise InputError("tune needs a language model: pass --lm PATH, or --model with a '-with-lm' repo")
    arrays = utterance_log_probs(utterances, acoustic, vocabulary)
    plan = plan_tune(
        arrays, [u.reference for u in utterances], vocabulary, lm=lm, decoder=decoder,
        alpha_range=parse_range(alpha_range, "--alpha-range"), beta_range=parse_range(beta_range, "--beta-range"),
        beam_width=beam_width,
    )
    output = output if output is not None else default_output_dir(*run_names(settings), plan.fingerprint, prefix="tune")
    typer.echo(f"tuning on {len(arrays)} utterances, {trials} trials", err=True)

    def show(trial: Any, done: int, total: int) -> None:
        typer.echo(f"trial {done}/{total}: alpha={trial.alpha:g} beta={trial.beta:g} WER={100 * trial.wer:.2f}%", err=True)

    result = run_tune(plan, trials=trials, output_dir=output, resume=resume, overwrite=overwrite, progress=show,
                      ray=ray, ray_options=ray_options(1) if ray is not None else None)
    for trial in sorted(result.trials, key=lambda t: (t.wer, t.alpha, t.beta)):
        typer.echo(f"alpha={trial.alpha:<8g} beta={trial.beta:<8g} WER={100 * trial.wer:6.2f}%  CER={100 * trial.cer:6.2f}%")
    typer.echo(f"best: alpha={result.best.alpha:g} beta={result.best.beta:g} WER={100 * result.best.wer:.2f}% "
               f"(written to {output / 'tune.json'})")
