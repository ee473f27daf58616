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

from ctcdecode_kit._version import package_versions
from ctcdecode_kit.errors import CTCDecodeKitError

app = typer.Typer(
    name="ctcdecode-kit",
    help="Decode CTC speech-model logits with interchangeable decoders and measure which one wins.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


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


_LM_HELP = "ARPA or KenLM binary LM (a beam decoder given --lm fuses it: -d native --lm X means native+lm)."
_ALPHA_HELP = "LM weight (default: 0.5)."
_BETA_HELP = "Word insertion bonus (default: 1.0)."


def _shared(
    lm: Path | None, alpha: float | None, beta: float | None, beam_width: int | None, frame_rate: float | None = None
) -> Any:
    """The settings a run's decoders share; None = not given (the option builder applies the defaults)."""
    from ctcdecode_kit.runs.specs import SharedSettings

    return SharedSettings(lm=lm, alpha=alpha, beta=beta, beam_width=beam_width, frame_rate=frame_rate)


def _close(decoder: Any) -> None:
    close = getattr(decoder, "close", None)
    if close is not None:
        close()


@app.command()
@friendly_errors
def decode(
    logits: list[Path] = typer.Argument(..., help="Saved logits: .npy or .pt files, [T, V] or [1, T, V]."),
    vocab: Path = typer.Option(..., "--vocab", help="vocab.json (token -> id) or tokens.txt."),
    decoder: str = typer.Option(
        "greedy", "--decoder", "-d", help="Decoder spec NAME[+lm][:key=value,...] (names: see `list`)."
    ),
    lm: Path | None = typer.Option(None, "--lm", help=_LM_HELP),
    alpha: float | None = typer.Option(None, help=_ALPHA_HELP),
    beta: float | None = typer.Option(None, help=_BETA_HELP),
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
    dec = build_from_spec(decoder, vocabulary, _shared(lm, alpha, beta, beam_width, frame_rate))
    try:
        for path in logits:
            array = load_logits(path, vocab_size=len(vocabulary))
            hyp = dec.decode(array)[0][0]
            if as_json:
                typer.echo(json.dumps({"file": str(path), **hyp.to_dict()}))
            else:
                typer.echo(hyp.text if len(logits) == 1 else f"{path}\t{hyp.text}")
    finally:
        _close(dec)


def _parse_range(text: str, name: str) -> tuple[float, float]:
    from ctcdecode_kit.errors import InputError

    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"{name} must look like LOW,HIGH (e.g. 0,2), got {text!r}") from None
    return low, high


def _quiet_transformers() -> None:
    """Keep transformers' per-load progress bars and notices out of the CLI's output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _load_inputs(
    model: str | None, data: Path | None, logits: Path | None, vocab: Path | None, device: str | None
) -> tuple[Any, list[Any], Any, float | None, dict[str, Any]]:
    """(acoustic model or None, utterances, vocabulary, frame rate, settings) for compare/tune.

    A saved-logits dataset (``--logits``) is decoded from its own files; audio (``--data``)
    goes through the model.
    """
    from ctcdecode_kit import Vocabulary
    from ctcdecode_kit.datasets import load_dataset
    from ctcdecode_kit.errors import InputError

    if logits is not None and (data is not None or model is not None):
        raise InputError("give --logits (saved logits) alone, or --data (audio) with an optional --model, not both")
    if logits is not None:
        dataset = load_dataset(logits)
        vocabulary = Vocabulary.from_file(vocab) if vocab is not None else getattr(dataset, "vocabulary", None)
        if vocabulary is None:
            raise InputError(f"no vocab.json in {str(logits)!r}; pass --vocab PATH")
        return None, list(dataset), vocabulary, None, {"logits": str(logits)}
    if vocab is not None:
        raise InputError("--vocab applies to --logits; an acoustic model brings its own vocabulary")
    from ctcdecode_kit import AcousticModel
    from ctcdecode_kit.default import default_assets

    _quiet_transformers()
    if data is None or model is None:
        assets = default_assets()
        data = data if data is not None else assets.eval_dir
        model = model if model is not None else str(assets.model_dir)
    acoustic = AcousticModel.from_pretrained(model, device=device)
    dataset = load_dataset(data)
    return acoustic, list(dataset), acoustic.vocabulary, acoustic.frame_rate, {"model": str(model), "data": str(data)}


def _wants_lm(specs: list[str]) -> bool:
    """Whether the comparison has a decoder that uses an LM (the default table does)."""
    from ctcdecode_kit.runs.specs import parse_decoder_spec

    return not specs or any(parse_decoder_spec(s).use_lm for s in specs)


def _default_lm(lm: Path | None, model: str | None, data: Path | None, logits: Path | None) -> Path | None:
    if lm is not None or model is not None or data is not None or logits is not None:
        return lm
    from ctcdecode_kit.default import default_assets

    return default_assets().lm_path


def _run_names(settings: dict[str, Any]) -> tuple[str | None, str | None]:
    """(data, model) names for a derived output folder."""
    if "logits" in settings:
        return settings["logits"], None
    return settings.get("data"), settings.get("model")


def _print_table(comparison: Any) -> None:
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


class _Bars:
    """rich progress bars driven by the library's progress(task, done, total) callback."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            transient=False, disable=not sys.stderr.isatty(),
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, task: str, done: int, total: int | None) -> None:
        """Advance ``task`` to ``done`` of ``total`` (None: not known yet)."""
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(task, total=total)
        self.progress.update(self.tasks[task], completed=done, total=total)

    def __enter__(self) -> "_Bars":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


_OUTPUT_HELP = (
    "Results folder (default: ctcdecode-kit-runs/<data>-<model>-<hash of the run's settings>). A folder "
    "holding another run's results is refused (see --overwrite, --resume)."
)
_OVERWRITE_HELP = "Delete the results and logits a previous run wrote in --output, then start afresh."


@app.command()
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
    alpha: float | None = typer.Option(None, help=_ALPHA_HELP),
    beta: float | None = typer.Option(None, help=_BETA_HELP),
    beam_width: int | None = typer.Option(None, "--beam-width", help="Beam width of beam decoders (default: 100)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Utterances per acoustic/decoder batch."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)."),
    output: Path | None = typer.Option(None, "--output", "-o", help=_OUTPUT_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in --output (same settings)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
) -> None:
    """Compare decoders' WER, CER and speed on one dataset.

    Example: ctcdecode-kit compare        (embedded offline default data)

    Example: ctcdecode-kit compare --logits ../shared/data/wav2vec2-logits -d greedy -d pyctcdecode
    """
    from ctcdecode_kit.runs.compare import plan_comparison, run_comparison
    from ctcdecode_kit.runs.fingerprint import default_output_dir
    from ctcdecode_kit.runs.journal import ensure_output_dir

    if output is not None:
        ensure_output_dir(output)
    if lm is None and _wants_lm(decoder):
        lm = _default_lm(lm, model, data, logits)
    acoustic, utterances, vocabulary, frame_rate, settings = _load_inputs(model, data, logits, vocab, device)
    plan = plan_comparison(
        utterances, decoders=decoder or None, model=acoustic, vocabulary=vocabulary, frame_rate=frame_rate,
        lm=lm, alpha=alpha, beta=beta, beam_width=beam_width, batch_size=batch_size, settings=settings,
    )
    output = output if output is not None else default_output_dir(*_run_names(settings), plan.fingerprint)
    with _Bars() as bars:
        result = run_comparison(plan, output_dir=output, resume=resume, overwrite=overwrite, progress=bars)
    _print_table(result)


@app.command()
@friendly_errors
def transcribe(
    files: list[Path] = typer.Argument(..., help="Audio files (wav, flac, ogg, mp3)."),
    model: str | None = typer.Option(None, "--model", "-m", help="HF model id or local dir (default: embedded model)."),
    decoder: str = typer.Option("greedy", "--decoder", "-d", help="Decoder spec NAME[+lm][:key=value,...]."),
    lm: Path | None = typer.Option(None, "--lm", help=_LM_HELP),
    alpha: float | None = typer.Option(None, help=_ALPHA_HELP),
    beta: float | None = typer.Option(None, help=_BETA_HELP),
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

    _quiet_transformers()
    acoustic = AcousticModel.from_pretrained(model or str(default_assets().model_dir), device=device)
    shared = _shared(lm, alpha, beta, beam_width, acoustic.frame_rate)
    built = build_from_spec(decoder, acoustic.vocabulary, shared)
    try:
        hyps = run_transcribe([str(f) for f in files], model=acoustic, decoder=built)
    finally:
        _close(built)
    for path, hyp in zip(files, hyps):
        if as_json:
            typer.echo(json.dumps({"file": str(path), **hyp.to_dict()}))
        else:
            typer.echo(hyp.text if len(files) == 1 else f"{path}\t{hyp.text}")


@app.command()
@friendly_errors
def tune(
    lm: Path = typer.Option(..., "--lm", help="ARPA or KenLM binary LM."),
    model: str | None = typer.Option(None, "--model", "-m", help="HF model id or local dir (default: embedded model)."),
    data: Path | None = typer.Option(None, "--data", help="Audio dev set."),
    logits: Path | None = typer.Option(None, "--logits", help="Saved-logits dev set."),
    vocab: Path | None = typer.Option(None, "--vocab", help="Vocabulary for --logits."),
    decoder: str = typer.Option(
        "pyctcdecode", "--decoder", "-d", help="Decoder spec to tune NAME[:key=value,...] (pyctcdecode, native, rescore)."
    ),
    alpha_range: str = typer.Option("0,2", "--alpha-range", help="LOW,HIGH for alpha."),
    beta_range: str = typer.Option("-2,4", "--beta-range", help="LOW,HIGH for beta."),
    trials: int = typer.Option(20, "--trials", help="Number of decodes of the dev set."),
    beam_width: int | None = typer.Option(None, "--beam-width", help="Beam width (default: 50)."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, ..."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Results folder (default: ctcdecode-kit-runs/tune-<data>-<model>-<hash>)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted search (same settings)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
) -> None:
    """Search alpha/beta for the lowest WER on a dev set (grid refinement, resumable).

    Example: ctcdecode-kit tune --lm lm.arpa --logits dev-logits/ --trials 20
    """
    from ctcdecode_kit.runs.fingerprint import default_output_dir
    from ctcdecode_kit.runs.journal import ensure_output_dir
    from ctcdecode_kit.runs.logits_cache import utterance_log_probs
    from ctcdecode_kit.runs.tune import plan_tune, run_tune

    if output is not None:
        ensure_output_dir(output)
    acoustic, utterances, vocabulary, _rate, settings = _load_inputs(model, data, logits, vocab, device)
    arrays = utterance_log_probs(utterances, acoustic, vocabulary)
    plan = plan_tune(
        arrays, [u.reference for u in utterances], vocabulary, lm=lm, decoder=decoder,
        alpha_range=_parse_range(alpha_range, "--alpha-range"), beta_range=_parse_range(beta_range, "--beta-range"),
        beam_width=beam_width,
    )
    output = output if output is not None else default_output_dir(*_run_names(settings), plan.fingerprint, prefix="tune")
    typer.echo(f"tuning on {len(arrays)} utterances, {trials} trials", err=True)

    def show(trial: Any, done: int, total: int) -> None:
        typer.echo(f"trial {done}/{total}: alpha={trial.alpha:g} beta={trial.beta:g} WER={100 * trial.wer:.2f}%", err=True)

    result = run_tune(plan, trials=trials, output_dir=output, resume=resume, overwrite=overwrite, progress=show)
    for trial in sorted(result.trials, key=lambda t: (t.wer, t.alpha, t.beta)):
        typer.echo(f"alpha={trial.alpha:<8g} beta={trial.beta:<8g} WER={100 * trial.wer:6.2f}%  CER={100 * trial.cer:6.2f}%")
    typer.echo(f"best: alpha={result.best.alpha:g} beta={result.best.beta:g} WER={100 * result.best.wer:.2f}% "
               f"(written to {output / 'tune.json'})")


lm_app = typer.Typer(help="Build and query n-gram language models.", no_args_is_help=True)
app.add_typer(lm_app, name="lm")


@lm_app.command("build")
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
    with _Bars() as bars:  # the corpus streams from disk; progress per stage on a terminal
        stats = build_arpa(
            corpus, output, order=order, prune_singletons=prune_singletons,
            progress=lambda stage, done, total: bars(stage, done, total or None),
        )
    typer.echo(
        f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, order {order}, {stats.sentences} sentences, "
        f"{stats.words} words)"
    )


@lm_app.command("score")
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
