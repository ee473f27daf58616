"""``ctcdecode-kit decode``: decode saved logits files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import ALPHA_HELP, BETA_HELP, LM_HELP, close, friendly_errors, shared_settings



@friendly_errors
def decode(
    logits: list[Path] = typer.Argument(..., help="Saved logits: .npy or .pt files, [T, V] or [1, T, V]."),
    vocab: Path = typer.Option(..., "--vocab", help="vocab.json (token -> id) or tokens.txt."),
    decoder: str = typer.Option(
        "greedy", "--decoder", "-d", help="Decoder spec NAME[+lm][:key=value,...] (names: see `list`)."
    ),
    lm: Path | None = typer.Option(None, "--lm", help=LM_HELP),
    alpha: float | None = typer.Option(None, help=ALPHA_HELP),
    beta: float | None = typer.Option(None, help=BETA_HELP),
    beam_width: int | None = typer.Option(None, "--beam-width", help="Beam width (default: 100)."),
    frame_rate: float | None = typer.Option(None, "--frame-rate", help="Frames per second (wav2vec2: 50)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON with scores and word frames."),
) -> None:
    """Decode logits saved by any CTC model.

    Example: ctcdecode-kit decode ../shared/data/wav2vec2-logits/121-121726-0000.npy
    --vocab ../shared/data/wav2vec2-logits/vocab.json
    """
    from ctcdecode_kit import Vocabulary
    from ctcdecode_kit.logits_io import load_logits
    from ctcdecode_kit.runs.specs import build_from_spec

    vocabulary = Vocabulary.from_file(vocab)
    dec = build_from_spec(decoder, vocabulary, shared_settings(lm, alpha, beta, beam_width, frame_rate))
    try:
        for path in logits:
            array = load_logits(path, vocab_size=len(vocabulary))
            hyp = dec.decode(array)[0][0]
            if as_json:
                typer.echo(json.dumps({"file": str(path), **hyp.to_dict()}))
            else:
                typer.echo(hyp.text if len(logits) == 1 else f"{path}\t{hyp.text}")
    finally:
        close(dec)
