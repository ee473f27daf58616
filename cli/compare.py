"""``ctcdecode-kit compare``: every decoder on one dataset, a table of WER, CER and speed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from .common import (
    ALPHA_HELP, BETA_HELP, OUTPUT_HELP, OVERWRITE_HELP, RAY_ACTORS_HELP, RAY_HELP, Bars, default_lm, friendly_errors,
    load_inputs, ray_options, repo_lm_settings, run_names, wants_lm,
)



def print_table(comparison: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Decoder comparison ({comparison.settings.get('n_utterances')} utterances)")
    for column in ("decoder", "WER %", "CER %", "sub/ins/del", "decode s", "RTF", "WER vs greedy"):
        table.add_column(column, justify="left" if column == "decoder" else "right")
    for r in comparison.results:
        change = "" if r.wer_change_vs_greedy is None else f"{100 * r.wer_change_vs_greedy:+.1f}%"
        table.add_row(
            r.decoder,
            f"{100 * r.wer:.2f}",
            f"{100 * r.cer:.2f}",
            f"{r.substitutions}/{r.insertions}/{r.deletions}",
            f"{r.decode_seconds:.2f}",
            f"{r.rtf:.4f}",
            change,
        )
    console = Console(width=110)
    console.print(table)
    console.print(
        f"acoustic pass {comparison.acoustic_seconds:.1f} s, total wall time {comparison.wall_seconds:.1f} s"
        + (f"; results in {comparison.output_dir}" if comparison.output_dir else "")
    )



@friendly_errors
def compare(
    model: str | None = typer.Option(None, "--model", "-m", help="HF model id or local dir (default: embedded model)."),
    data: Path | None = typer.Option(None, "--data", help="Audio dataset: folder+trans.txt, LibriSpeech tree or JSONL."),
    logits: Path | None = typer.Option(None, "--logits", help="Folder of saved logits (.npy/.pt) + trans.txt."),
    vocab: Path | None = typer.Option(None, "--vocab", help="Vocabulary for --logits (default: its vocab.json)."),
    decoder: list[str] = typer.Option(
        [], "--decoder", "-d", help="Decoder spec NAME[+lm][:key=value,...]; repeat; default: all available."
    ),
    lm: Path | None = typer.Option(None, "--lm", help="ARPA or KenLM binary LM (default: the embedded LM)."),
    alpha: float | None = typer.Option(None, help=ALPHA_HELP),
    beta: float | None = typer.Option(None, help=BETA_HELP),
    beam_width: int | None = typer.Option(None, "--beam-width", help="Beam width of beam decoders (default: 100)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Utterances per acoustic/decoder batch."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)."),
    output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in --output (same settings)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    ray: str | None = typer.Option(None, "--ray", help=RAY_HELP),
    ray_decoder_actors: int = typer.Option(1, "--ray-decoder-actors", help=RAY_ACTORS_HELP),
    nbest: int | None = typer.Option(None, "--nbest", help="Keep K hypotheses per utterance in hyps.jsonl (report: n-best oracle WER)."),
    baseline: str | None = typer.Option(None, "--baseline", help="Decoder the report compares against (default: greedy, else the first)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html (results.json keeps the report's numbers)."),
) -> None:
    """Compare decoders' WER, CER and speed on one dataset.

    Example: ctcdecode-kit compare        (embedded offline default data)

    Example: ctcdecode-kit compare --logits ../shared/data/wav2vec2-logits -d greedy -d pyctcdecode

    Example: ctcdecode-kit compare --data /shared/test-clean --ray auto -o /shared/runs/test-clean
    """
    from ctcdecode_kit.runs.compare import plan_comparison, run_comparison
    from ctcdecode_kit.runs.fingerprint import default_output_dir
    from ctcdecode_kit.runs.journal import ensure_output_dir

    if output is not None:
        ensure_output_dir(output)
    if lm is None and wants_lm(decoder):
        lm = default_lm(lm, model, data, logits)
    acoustic, utterances, vocabulary, frame_rate, settings = load_inputs(model, data, logits, vocab, device)
    if wants_lm(decoder):  # a "-with-lm" model: its LM and weights unless --lm/--alpha/--beta
        lm, alpha, beta = repo_lm_settings(acoustic, lm, alpha, beta)
    if not decoder:
        from ctcdecode_kit.runs.specs import missing_backends

        for name, command in missing_backends().items():
            typer.echo(f"note: the {name!r} decoder is not installed and is left out; {command} adds it", err=True)
    plan = plan_comparison(
        utterances, decoders=decoder or None, model=acoustic, vocabulary=vocabulary, frame_rate=frame_rate,
        lm=lm, alpha=alpha, beta=beta, beam_width=beam_width, batch_size=batch_size, settings=settings,
        nbest=nbest, baseline=baseline,
    )
    output = output if output is not None else default_output_dir(*run_names(settings), plan.fingerprint)
    with Bars() as bars:
        result = run_comparison(plan, output_dir=output, resume=resume, overwrite=overwrite, progress=bars,
                                report=not no_report, ray=ray,
                                ray_options=ray_options(ray_decoder_actors) if ray is not None else None)
    print_table(result)
