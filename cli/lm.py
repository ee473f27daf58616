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
    memory: str = typer.Option(
        "1G", "--memory",
        help="Memory budget for the counts and tables (e.g. 1G, 500M, 64K); bigger corpora spill sorted runs "
        "to the temporary folder (TMPDIR) instead of using more memory.",
    ),
) -> None:
    """Build a Kneser-Ney smoothed ARPA model from a text corpus.

    Example: ctcdecode-kit lm build corpus.txt -o lm.arpa --order 3 --memory 2G
    """
    from ctcdecode_kit.errors import MissingFileError
    from ctcdecode_kit.lm import build_arpa

    if not corpus.is_file():
        raise MissingFileError(f"corpus file {str(corpus)!r} does not exist")
    with Bars() as bars:  # the corpus streams from disk; progress per stage on a terminal
        stats = build_arpa(
            corpus, output, order=order, prune_singletons=prune_singletons, memory=memory,
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


@friendly_errors
def lm_export(
    output: Path = typer.Argument(..., help="Folder to write (created; files already there are kept)."),
    model: str = typer.Option(..., "--model", "-m", help="HF model id or local dir whose tokenizer and feature extractor to use."),
    lm: Path = typer.Option(..., "--lm", help="ARPA or KenLM binary LM."),
    alpha: float | None = typer.Option(None, help="LM weight (default: the model repo's, else 0.5)."),
    beta: float | None = typer.Option(None, help="Word insertion bonus (default: the model repo's, else 1.0)."),
    unk_score_offset: float | None = typer.Option(
        None, "--unk-score-offset", help="log10 offset for unknown words (default: the model repo's, else -10)."
    ),
    lm_rules: str = typer.Option("pyctcdecode", "--lm-rules", help="pyctcdecode (exact in the HF processor) or kit."),
) -> None:
    """Write a Hugging Face "-with-lm" folder: tokenizer, feature extractor, alphabet.json, language_model/.

    The folder loads in Wav2Vec2ProcessorWithLM.from_pretrained (Transformers v5) and in
    ctcdecode_kit.from_pretrained, and both decode it identically.

    Example: ctcdecode-kit lm export --model facebook/wav2vec2-base-960h --lm 4gram.arpa my-model-with-lm
    """
    from ctcdecode_kit import Vocabulary, build_decoder, save_pretrained
    from ctcdecode_kit.errors import MissingFileError, VocabularyError
    from ctcdecode_kit.pretrained import PYCTCDECODE_DEFAULTS, load_decoder_config

    from .common import quiet_transformers

    quiet_transformers()
    from transformers import AutoFeatureExtractor, AutoTokenizer

    if not lm.is_file():
        raise MissingFileError(f"language model file {str(lm)!r} does not exist")
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        feature_extractor = AutoFeatureExtractor.from_pretrained(model)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VocabularyError(
            f"could not load the tokenizer and feature extractor of {model!r}: it must be a hub model id or a folder "
            f"saved with processor.save_pretrained ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    try:
        repo = load_decoder_config(model)  # a "-with-lm" model brings its own weights
    except MissingFileError:  # a Hub model that cannot be reached again: the kit's defaults
        repo = None
    weights = {"alpha": 0.5, "beta": 1.0, "unk_score_offset": PYCTCDECODE_DEFAULTS["unk_score_offset"]}
    if repo is not None and repo.has_lm:
        weights = {"alpha": repo.alpha, "beta": repo.beta, "unk_score_offset": repo.unk_score_offset}
    given = {"alpha": alpha, "beta": beta, "unk_score_offset": unk_score_offset}
    weights.update({k: v for k, v in given.items() if v is not None})
    vocabulary = Vocabulary.from_tokenizer(tokenizer)
    decoder = build_decoder("native", vocabulary, lm=lm, lm_rules=lm_rules, lm_case=None, **weights)
    output.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(output))
    feature_extractor.save_pretrained(str(output))
    save_pretrained(decoder, output)
    typer.echo(
        f"wrote {output} (alpha {weights['alpha']:g}, beta {weights['beta']:g}, lm_rules {lm_rules}, "
        f"LM {lm.name}); load it with ctcdecode_kit.from_pretrained({str(output)!r})"
    )
