"""``ctcdecode-kit lexicon build``: a pronunciation lexicon for a phoneme model from a word list."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import Bars, friendly_errors

app = typer.Typer(help="Build pronunciation lexicons for lexicon-constrained decoding.", no_args_is_help=True)


@app.command("build")
@friendly_errors
def lexicon_build(
    words: Path = typer.Argument(..., help="Word list: one word per line, a lexicon file (first column) or an ARPA LM."),
    model: str | None = typer.Option(None, "--model", "-m", help="Acoustic model whose tokens to use (e.g. hama)."),
    vocab: Path | None = typer.Option(None, "--vocab", help="Vocabulary file (tokens.txt / vocab.json) instead of --model."),
    output: Path = typer.Option(..., "--output", "-o", help="Lexicon file to write (word tok tok ... <wb>)."),
    g2p: list[str] = typer.Option(["espeak"], "--g2p", help="espeak (espeak-ng --ipa) or hama; repeat for both."),
    blank: str | None = typer.Option(None, "--blank", help="The blank token of --vocab (default: detected)."),
    word_delimiter: str | None = typer.Option(
        None, "--word-delimiter", help="The word-boundary token of --vocab, e.g. '<wb>' (default: detected)."
    ),
    voice: str = typer.Option("en-us", "--voice", help="espeak-ng voice."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Phonemise again instead of reading the cache."),
) -> None:
    """Phonemise a word list and map it onto a model's tokens (longest match; rules in ctcdecode_kit.g2p).

    Words that cannot be mapped are listed in OUTPUT.unmapped.txt.

    Example: ctcdecode-kit lexicon build words.txt --model hama -o lexicon.txt

    Example: ctcdecode-kit lexicon build words.txt --vocab tokens.txt --blank '<blank>' --word-delimiter '<wb>' -o lex.txt
    """
    from ctcdecode_kit import AUTO, Vocabulary
    from ctcdecode_kit.errors import InputError
    from ctcdecode_kit.g2p import build_lexicon

    if (model is None) == (vocab is None):
        raise InputError("give the token inventory with --model MODEL or --vocab VOCAB (one of them)")
    if model is not None and (blank is not None or word_delimiter is not None):
        raise InputError("--blank and --word-delimiter apply to --vocab; a model brings its own vocabulary")
    if vocab is not None:
        vocabulary = Vocabulary.from_file(
            vocab, blank=AUTO if blank is None else blank,
            word_delimiter=AUTO if word_delimiter is None else word_delimiter,
        )
    elif model == "hama":
        from ctcdecode_kit.onnx_model import hama_vocabulary

        vocabulary = hama_vocabulary()
    else:
        from ctcdecode_kit import AcousticModel

        vocabulary = AcousticModel.from_pretrained(model).vocabulary
    with Bars() as bars:
        built = build_lexicon(
            words, vocabulary, backends=tuple(g2p), voice=voice, cache=not no_cache,
            progress=lambda backend, done, total: bars(f"phonemising ({backend})", done, total),
        )
    unmapped_path = output.with_name(output.name + ".unmapped.txt")
    if built.unmapped:
        output.parent.mkdir(parents=True, exist_ok=True)
        unmapped_path.write_text("".join(f"{w}\t{why}\n" for w, why in built.unmapped.items()), encoding="utf-8")
    if built.lexicon is None:
        raise InputError(f"none of the words could be mapped onto the vocabulary's tokens; see {unmapped_path}")
    output.parent.mkdir(parents=True, exist_ok=True)
    built.lexicon.save(output)
    n_words = len(built.lexicon)
    typer.echo(f"wrote {output}: {n_words} words, {len(built.lexicon.entries)} pronunciations")
    if built.unmapped:
        shown = ", ".join(list(built.unmapped)[:10])
        typer.echo(f"{len(built.unmapped)} words could not be mapped ({shown}...); listed in {unmapped_path}")
