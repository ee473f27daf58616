"""``ctcdecode-kit report RUN_DIR``: rebuild a compare run's report.html (and its numbers in results.json)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import friendly_errors


@friendly_errors
def report(
    run_dir: Path = typer.Argument(..., help="A compare output folder (holding hyps.jsonl and results.json)."),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Decoder to compare against (default: the run's, else greedy, else the first)."
    ),
) -> None:
    """Rebuild report.html from a run's hyps.jsonl and results.json (finished, resumed or Ray runs).

    The OOV rate uses the run's settings.lm; when that file has moved, the report says so.

    Example: ctcdecode-kit report ctcdecode-kit-runs/eval-model-1a2b3c4d --baseline greedy
    """
    from ctcdecode_kit.report import rebuild_report

    path = rebuild_report(run_dir, baseline=baseline)
    typer.echo(f"report written to {path}")
