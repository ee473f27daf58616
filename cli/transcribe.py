"""``ctcdecode-kit transcribe``: audio files to text."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import ALPHA_HELP, BETA_HELP, LM_HELP, close, friendly_errors, quiet_transformers, shared_settings



@friendly_errors
def transcribe(
    files: list[Path] = typer.Argument(..., help="Audio files (wav, flac, ogg, mp3)."),
    model: str | None = typer.Option(None, "--model", "-m", help="HF model id or local dir (default: embedded model)."),
    decoder: str | None = typer.Option(
        None, "--decoder", "-d",
        help="Decoder spec NAME[+lm][:key=value,...] (default: native with a '-with-lm' model's LM, else greedy).",
    ),
    lm: Path | None = typer.Option(None, "--lm", help=LM_HELP),
    alpha: float | None = typer.Option(None, help=ALPHA_HELP),
    beta: float | None = typer.Option(None, help=BETA_HELP),
    beam_width: int | None = typer.Option(None, "--beam-width", help="Beam width (default: 100)."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, ..."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines with word timestamps (s) and scores."),
) -> None:
    """Transcribe audio files.

    Example: ctcdecode-kit transcribe speech.flac --json
    """
    from ctcdecode_kit import AcousticModel
    from ctcdecode_kit import transcribe as run_transcribe
    from ctcdecode_kit.default import default_assets
    from ctcdecode_kit.runs.specs import build_from_spec

    quiet_transformers()
    acoustic = AcousticModel.from_pretrained(model or str(default_assets().model_dir), device=device)
    repo = acoustic.decoder_config  # a "-with-lm" model: its LM and weights unless --lm/--alpha/--beta
    shared = shared_settings(lm, alpha, beta, beam_width, acoustic.frame_rate, repo=repo)
    if decoder is None:
        decoder = "native" if shared.repo_lm() is not None else "greedy"
    built = build_from_spec(decoder, acoustic.vocabulary, shared)
    try:
        hyps = run_transcribe([str(f) for f in files], model=acoustic, decoder=built)
    finally:
        close(built)
    for path, hyp in zip(files, hyps):
        if as_json:
            typer.echo(json.dumps({"file": str(path), **hyp.to_dict()}))
        else:
            typer.echo(hyp.text if len(files) == 1 else f"{path}\t{hyp.text}")
