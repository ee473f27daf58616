"""``ctcdecode-kit transcribe``: audio files to text."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import (
    ALPHA_HELP, BETA_HELP, LM_HELP, OVERWRITE_HELP, RAY_ACTORS_HELP, RAY_HELP, Bars, close, friendly_errors,
    quiet_transformers, ray_options, repo_lm_settings, shared_settings,
)



@friendly_errors
def transcribe(
    files: list[Path] = typer.Argument(None, help="Audio files (wav, flac, ogg, mp3); or give --data."),
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
    data: Path | None = typer.Option(
        None, "--data", help="A whole dataset (folder, LibriSpeech tree, JSONL manifest) into --output/transcripts.jsonl."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="With --data: the results folder."),
    resume: bool = typer.Option(False, "--resume", help="With --data: continue an interrupted run in --output."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    batch_size: int = typer.Option(8, "--batch-size", help="Utterances per acoustic/decoder batch."),
    ray: str | None = typer.Option(None, "--ray", help=RAY_HELP + " With --data."),
    ray_decoder_actors: int = typer.Option(1, "--ray-decoder-actors", help=RAY_ACTORS_HELP),
) -> None:
    """Transcribe audio files, or a whole dataset (pseudo-labelling) with --data and --output.

    Example: ctcdecode-kit transcribe speech.flac --json

    Example: ctcdecode-kit transcribe --data /shared/unlabelled.jsonl --output /shared/labels --ray auto
    """
    from ctcdecode_kit.errors import InputError

    if data is None and (output is not None or resume or overwrite or ray is not None):
        raise InputError("--output, --resume, --overwrite and --ray apply to a dataset; give --data DATASET")
    if data is not None and files:
        raise InputError("give audio files, or --data DATASET, not both")
    if data is not None and output is None:
        raise InputError("--data needs --output DIR (where transcripts.jsonl is written)")
    if data is None and not files:
        raise InputError("give audio files to transcribe, or --data DATASET --output DIR")
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
    if data is not None:
        from ctcdecode_kit.datasets import load_dataset
        from ctcdecode_kit.runs.specs import single_decoder_spec
        from ctcdecode_kit.runs.transcribe import transcribe_dataset

        if single_decoder_spec(decoder, shared).use_lm:
            lm, alpha, beta = repo_lm_settings(acoustic, lm, alpha, beta)
        utterances = list(load_dataset(data, allow_empty_references=True))
        with Bars() as bars:
            path = transcribe_dataset(
                utterances, acoustic, decoder, output_dir=output, resume=resume, overwrite=overwrite, lm=lm,
                alpha=alpha, beta=beta, beam_width=beam_width, batch_size=batch_size, progress=bars,
                settings={"model": str(model or default_assets().model_dir), "data": str(data)}, ray=ray,
                ray_options=ray_options(ray_decoder_actors) if ray is not None else None,
            )
        typer.echo(f"{len(utterances)} utterances transcribed into {path}", err=True)
        return
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
