"""``ctcdecode-kit``: compare CTC decoders, transcribe audio, decode saved logits.

Every command calls the public Python API only. Errors the kit raises on purpose are
printed as one line (``error: ...``) with exit code 2, never as a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from ctcdecode_kit import __version__
from ctcdecode_kit.errors import CTCDecodeKitError

app = typer.Typer(
    name="ctcdecode-kit",
    help="Decode CTC speech-model logits with interchangeable decoders and measure which one wins.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"ctcdecode-kit": __version__}
    for dist in ("torch", "transformers", "pyctcdecode", "kenlm", "jiwer", "numpy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def friendly_errors(func: F) -> F:
    """Turn the kit's errors (and OS errors) into one-line messages with exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CTCDecodeKitError as exc:
            fail(" ".join(str(exc).split()))
        except (PermissionError, IsADirectoryError, NotADirectoryError, FileNotFoundError) as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}" if getattr(exc, "filename", None) else str(exc))
        except KeyboardInterrupt:
            fail("interrupted; finished results are kept, rerun with --resume to continue", code=130)

    return wrapper  # type: ignore[return-value]


def _version_callback(value: bool) -> None:
    if value:
        for name, ver in _versions().items():
            typer.echo(f"{name} {ver}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print versions and exit."
    ),
) -> None:
    """Decode CTC logits with greedy, beam, LM-fused and LM-rescored decoders; compare their WER.

    Example: ctcdecode-kit compare
    """


@app.command()
@friendly_errors
def decode(
    logits: list[Path] = typer.Argument(..., help="Saved logits: .npy or .pt files, [T, V] or [1, T, V]."),
    vocab: Path = typer.Option(..., "--vocab", help="vocab.json (token -> id) or tokens.txt."),
    decoder: str = typer.Option("greedy", "--decoder", "-d", help="Decoder name (see `list`)."),
    lm: Path | None = typer.Option(None, "--lm", help="ARPA or KenLM binary LM for beam decoders."),
    alpha: float = typer.Option(0.5, help="LM weight."),
    beta: float = typer.Option(1.0, help="Word insertion bonus."),
    beam_width: int = typer.Option(100, "--beam-width", help="Beam width."),
    frame_rate: float | None = typer.Option(None, "--frame-rate", help="Frames per second (wav2vec2: 50)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON with scores and word frames."),
) -> None:
    """Decode logits saved by any CTC model.

    Example: ctcdecode-kit decode ../shared/data/wav2vec2-logits/121-121726-0000.npy
    --vocab ../shared/data/wav2vec2-logits/vocab.json
    """
    from ctcdecode_kit import Vocabulary, build_decoder
    from ctcdecode_kit.logits_io import load_logits

    vocabulary = Vocabulary.from_file(vocab)
    options: dict[str, Any] = {"frame_rate": frame_rate}
    if decoder != "greedy":
        options.update(beam_width=beam_width)
        if lm is not None:
            options.update(lm=lm, alpha=alpha, beta=beta)
    dec = build_decoder(decoder, vocabulary, **options)
    for path in logits:
        array = load_logits(path, vocab_size=len(vocabulary))
        hyp = dec.decode(array)[0][0]
        if as_json:
            typer.echo(json.dumps({"file": str(path), **hyp.to_dict()}))
        else:
            typer.echo(hyp.text if len(logits) == 1 else f"{path}\t{hyp.text}")


@app.command("list")
def list_command() -> None:
    """List the registered decoder names.

    Example: ctcdecode-kit list
    """
    from ctcdecode_kit import list_decoders

    for name in list_decoders():
        typer.echo(name)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ctcdecode-kit")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
