"""``ctcdecode-kit lm ...``: build and query n-gram language models."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import Bars, friendly_errors



@friendly_errors
def lm_build(
    corpus: Path = typer.Argument(..., help="Text file, one sentence per line (UTF-8)."),
    output: Path = typer.Option(..., "--output", "-o", help="ARPA file to write."),
    order: int = typer.Option(3, "--order", help="N-gram order."),
    prune_singletons: bool = typer.Option(False, "--prune-singletons", help="Drop n-grams (n>=2) seen once."),
) -> None:
    """Build a Kneser-Ney smoothed ARPA model from a text corpus.

    Example: ctcdecode-kit lm build corpus.txt -o lm.arpa --order 3
    """
    from ctcdecode_kit.errors import MissingFileError
    from ctcdecode_kit.lm import build_arpa

    if not corpus.is_file():
        raise MissingFileError(f"corpus file {str(corpus)!r} does not exist")
    with Bars() as bars:  # the corpus streams from disk; progress per stage on a terminal
        stats = build_arpa(
            corpus, output, order=order, prune_singletons=prune_singletons,
            progress=lambda stage, done, total: bars(stage, done, total or None),
        )
    typer.echo(
        f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, order {order}, {stats.sentences} sentences, "
        f"{stats.words} words)"
    )


@friendly_errors
def lm_score(
    lm: Path = typer.Argument(..., help="ARPA or KenLM binary LM."),
    sentence: str = typer.Argument(..., help="Sentence to score."),
) -> None:
    """Score a sentence: natural-log and log10 probability per word and in total.

    Example: ctcdecode-kit lm score lm.arpa "the cat sat on the mat"
    """
    import math

    from ctcdecode_kit.lm import load_language_model, word_scores

    model = load_language_model(lm)
    total = 0.0
    for word, logp in word_scores(model, sentence.split()):
        total += logp
        typer.echo(f"{word:<20} ln={logp:10.4f}  log10={logp / math.log(10):10.4f}")
    typer.echo(f"{'TOTAL':<20} ln={total:10.4f}  log10={total / math.log(10):10.4f}")
