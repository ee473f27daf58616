"""What the command modules share: one-line errors, the shared decoder settings, input loading,
progress bars and option help texts."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from ctcdecode_kit.errors import CTCDecodeKitError

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



LM_HELP = "ARPA or KenLM binary LM (a beam decoder given --lm fuses it: -d native --lm X means native+lm)."
ALPHA_HELP = "LM weight (default: 0.5)."
BETA_HELP = "Word insertion bonus (default: 1.0)."


def shared_settings(
    lm: Path | None, alpha: float | None, beta: float | None, beam_width: int | None, frame_rate: float | None = None,
    repo: Any = None,
) -> Any:
    """The settings a run's decoders share; None = not given (the option builder applies the defaults,
    a "-with-lm" model's ``repo`` decoder settings first)."""
    from ctcdecode_kit.runs.specs import SharedSettings

    return SharedSettings(lm=lm, alpha=alpha, beta=beta, beam_width=beam_width, frame_rate=frame_rate, repo=repo)


def repo_lm_settings(
    acoustic: Any, lm: Path | None, alpha: float | None, beta: float | None
) -> tuple[Path | None, float | None, float | None]:
    """(lm, alpha, beta) with a "-with-lm" model's own LM and weights where the user gave no LM."""
    repo = getattr(acoustic, "decoder_config", None)
    if lm is not None or repo is None or not repo.has_lm:
        return lm, alpha, beta
    path = Path(repo.decoder_options("native")["lm"])  # an ARPA file via its user-cache link (see pretrained)
    return path, repo.alpha if alpha is None else alpha, repo.beta if beta is None else beta


def close(decoder: Any) -> None:
    close = getattr(decoder, "close", None)
    if close is not None:
        close()


def parse_range(text: str, name: str) -> tuple[float, float]:
    from ctcdecode_kit.errors import InputError

    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"{name} must look like LOW,HIGH (e.g. 0,2), got {text!r}") from None
    return low, high


def quiet_transformers() -> None:
    """Keep transformers' per-load progress bars and notices out of the CLI's output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_inputs(
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
    from ctcdecode_kit import AcousticModel
    from ctcdecode_kit.default import default_assets

    quiet_transformers()
    if data is None or model is None:
        assets = default_assets()
        data = data if data is not None else assets.eval_dir
        model = model if model is not None else str(assets.model_dir)
    # --vocab with a model: the vocabulary of an .onnx model (else tokens.txt / vocab.json beside it)
    vocabulary = Vocabulary.from_file(vocab) if vocab is not None else None
    acoustic = AcousticModel.from_pretrained(model, device=device, vocabulary=vocabulary)
    dataset = load_dataset(data)
    return acoustic, list(dataset), acoustic.vocabulary, acoustic.frame_rate, {"model": str(model), "data": str(data)}


def wants_lm(specs: list[str]) -> bool:
    """Whether the comparison has a decoder that uses an LM (the default table does)."""
    from ctcdecode_kit.runs.specs import parse_decoder_spec

    return not specs or any(parse_decoder_spec(s).use_lm for s in specs)


def default_lm(lm: Path | None, model: str | None, data: Path | None, logits: Path | None) -> Path | None:
    if lm is not None or model is not None or data is not None or logits is not None:
        return lm
    from ctcdecode_kit.default import default_assets

    return default_assets().lm_path


def run_names(settings: dict[str, Any]) -> tuple[str | None, str | None]:
    """(data, model) names for a derived output folder."""
    if "logits" in settings:
        return settings["logits"], None
    return settings.get("data"), settings.get("model")


class Bars:
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

    def __enter__(self) -> "Bars":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


OUTPUT_HELP = (
    "Results folder (default: ctcdecode-kit-runs/<data>-<model>-<hash of the run's settings>). A folder "
    "holding another run's results is refused (see --overwrite, --resume)."
)
OVERWRITE_HELP = "Delete the results and logits a previous run wrote in --output, then start afresh."
RAY_HELP = (
    "Run on Ray (needs the ray extra of ctcdecode-kit): auto (a running cluster: `ray start --head` or RAY_ADDRESS), "
    "local (start Ray here), ray://HOST:PORT or HOST:PORT. Paths must be readable from every node."
)
RAY_ACTORS_HELP = "With --ray: actors per decoder (each loads its LM once)."


def ray_options(decoder_actors: int) -> Any:
    """The Ray runner's options from the CLI's flags."""
    from ctcdecode_kit.runs.ray_runner import RayOptions

    return RayOptions(decoder_actors=decoder_actors)
