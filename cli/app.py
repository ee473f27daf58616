"""``ctcdecode-kit``: compare CTC decoders, transcribe audio, decode saved logits.

Every command calls the public Python API only. Errors the kit raises on purpose are
printed as one line (``error: ...``) with exit code 2, never as a traceback. Each command
lives in its own module (``cli/compare.py``, ``cli/tune.py``, ...); this one assembles them.
"""

from __future__ import annotations

import sys

import typer

from ctcdecode_kit._version import package_versions

from . import compare, decode, lexicon, lm, report, transcribe, tune
from .common import fail, friendly_errors

app = typer.Typer(
    name="ctcdecode-kit",
    help="Decode CTC speech-model logits with interchangeable decoders and measure which one wins.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

__all__ = ["app", "fail", "friendly_errors", "main"]


def _version_callback(value: bool) -> None:
    if value:
        for name, ver in package_versions().items():
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


def list_command() -> None:
    """List the registered decoder names.

    Example: ctcdecode-kit list
    """
    from ctcdecode_kit import list_decoders

    for name in list_decoders():
        typer.echo(name)


app.command("decode")(decode.decode)
app.command("compare")(compare.compare)
app.command("transcribe")(transcribe.transcribe)
app.command("tune")(tune.tune)
app.command("list")(list_command)
app.command("report")(report.report)

lm_app = typer.Typer(help="Build and query n-gram language models.", no_args_is_help=True)
lm_app.command("build")(lm.lm_build)
lm_app.command("score")(lm.lm_score)
lm_app.command("export")(lm.lm_export)
app.add_typer(lm_app, name="lm")
app.add_typer(lexicon.app, name="lexicon")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ctcdecode-kit")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
