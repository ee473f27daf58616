"""Checking and normalising decoder inputs at the boundary.

Every decoder calls :func:`prepare_log_probs` first, so all backends see the same
thing: a float32 torch tensor of log-probabilities ``[B, T, V]`` on the caller's device
and int64 CPU lengths ``[B]``. Raw logits and log-probs are both accepted (log_softmax
leaves log-probs unchanged); probabilities are refused unless ``input_type="probs"``.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit.inputs import prepare_log_probs
    >>> batch = prepare_log_probs(np.zeros((5, 4), dtype=np.float32), None, vocab_size=4)
    >>> tuple(batch.log_probs.shape), batch.lengths.tolist()
    ((1, 5, 4), [5])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = [
    "InputType",
    "LogProbBatch",
    "check_finite_number",
    "check_lengths",
    "check_positive_int",
    "prepare_log_probs",
    "read_text_file",
]

InputType = Literal["auto", "logits", "log_probs", "probs"]
_INPUT_TYPES = ("auto", "logits", "log_probs", "probs")


@dataclass(frozen=True, slots=True)
class LogProbBatch:
    """Validated decoder input: ``log_probs`` ``[B, T, V]`` float32 and ``lengths`` ``[B]``."""

    log_probs: torch.Tensor
    lengths: torch.Tensor

    def utterance(self, b: int) -> np.ndarray:
        """Log-probs of utterance ``b`` as a contiguous float32 numpy array ``[T_b, V]``."""
        n = int(self.lengths[b])
        return np.ascontiguousarray(self.log_probs[b, :n].detach().to("cpu").numpy())


def check_finite_number(name: str, value: Any) -> float:
    """Return ``value`` as float, or raise InputError naming ``name`` if it is not a finite number.

    Example:
        >>> check_finite_number("alpha", 1)
        1.0
    """
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_positive_int(name: str, value: Any, *, maximum: int | None = None) -> int:
    """Return ``value`` as int, or raise InputError naming ``name`` if it is not in 1..maximum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise InputError(f"{name} must be >= 1, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def _as_tensor(logits: Any) -> torch.Tensor:
    import torch
    if isinstance(logits, torch.Tensor):
        return logits.detach()
    if isinstance(logits, np.ndarray):
        if logits.dtype == object:
            raise InputError("logits is a numpy array of dtype object; expected a float array [T, V] or [B, T, V]")
        if not logits.flags.c_contiguous or not logits.flags.writeable:
            logits = np.array(logits, copy=True, order="C")
        return torch.from_numpy(logits)
    raise InputError(
        f"logits must be a numpy array or a torch tensor of shape [T, V] or [B, T, V], "
        f"got {type(logits).__name__}"
    )


def check_lengths(lengths: Any, batch: int, frames: int) -> torch.Tensor:
    """Validate ``lengths`` (None: every utterance has ``frames`` frames) and return int64 CPU lengths."""
    import torch
    if lengths is None:
        return torch.full((batch,), frames, dtype=torch.int64)
    if isinstance(lengths, torch.Tensor):
        values = lengths.detach().to("cpu")
    else:
        try:
            values = torch.as_tensor(np.asarray(lengths))
        except (TypeError, ValueError) as exc:
            raise InputError(f"lengths must be a sequence of integers, got {lengths!r}") from exc
    if values.dtype.is_floating_point or values.dtype == torch.bool or values.dtype.is_complex:
        raise InputError(f"lengths must hold integers, got dtype {values.dtype}")
    if values.dim() == 0:
        values = values.reshape(1)
    if values.dim() != 1 or values.shape[0] != batch:
        raise InputError(
            f"lengths must have one entry per utterance: expected shape ({batch},), got {tuple(values.shape)}"
        )
    if batch and int(values.min()) < 0:
        raise InputError(f"lengths must be >= 0, got {values.tolist()}")
    if batch and int(values.max()) > frames:
        bad = [i for i, n in enumerate(values.tolist()) if n > frames]
        raise InputError(
            f"lengths {values.tolist()} exceed the number of frames T={frames} of logits "
            f"(utterances {bad}); lengths count valid frames per utterance of a padded batch"
        )
    return values.to(torch.int64)


def prepare_log_probs(
    logits: Any,
    lengths: Any,
    *,
    vocab_size: int,
    input_type: InputType = "auto",
) -> LogProbBatch:
    """Validate ``logits`` and ``lengths`` and return normalised log-probabilities.

    Args:
        logits: numpy array or torch tensor (any device), ``[T, V]`` or ``[B, T, V]``,
            float16/bfloat16/float32/float64.
        lengths: valid frames per utterance (``[B]``), or None when nothing is padded.
        vocab_size: the decoder vocabulary's size; ``V`` must equal it.
        input_type: ``"auto"``/``"logits"``/``"log_probs"`` (log_softmax is applied, which
            leaves log-probs unchanged; probabilities are detected and refused under
            ``"auto"``), or ``"probs"`` (the log is taken).

    Raises:
        InputError: with the argument name, the shape or value seen, and what was expected.
    """
    import torch
    if input_type not in _INPUT_TYPES:
        raise InputError(f"input_type must be one of {_INPUT_TYPES}, got {input_type!r}")
    x = _as_tensor(logits)
    shape = tuple(x.shape)
    if x.dim() == 2:
        x = x.unsqueeze(0)
    elif x.dim() != 3:
        raise InputError(
            f"logits must be 2-D [T, V] or 3-D [B, T, V], got {x.dim()}-D with shape {shape}"
        )
    if x.dtype == torch.bool or not (x.dtype.is_floating_point):
        raise InputError(
            f"logits must be floating point (float16, bfloat16, float32 or float64), got {x.dtype} "
            f"with shape {shape}; integer scores are not logits"
        )
    batch, frames, classes = x.shape
    if batch == 0:
        raise InputError(f"logits is an empty batch (shape {shape}); expected at least one utterance")
    if classes != vocab_size:
        raise InputError(
            f"logits have {classes} classes in their last dimension (shape {shape}) but the "
            f"vocabulary has {vocab_size} tokens; expected shape [..., {vocab_size}]"
        )
    n = check_lengths(lengths, batch, frames)
    x = x.to(torch.float32)
    if frames == 0:
        return LogProbBatch(x, n)
    valid = (torch.arange(frames, device=x.device).unsqueeze(0) < n.to(x.device).unsqueeze(1)).unsqueeze(-1)
    # Fast path (the common case): two reductions, no tensor-sized temporaries kept.
    all_finite = bool(torch.isfinite(x).all())
    bad = torch.zeros(1, dtype=torch.bool) if all_finite else (torch.isnan(x) | torch.isposinf(x)) & valid
    if bool(bad.any()):
        b, t, v = (int(i) for i in bad.nonzero()[0])
        value = float(x[b, t, v])
        raise InputError(
            f"logits contain {'NaN' if value != value else '+inf'} (first at utterance {b}, frame {t}, "
            f"class {v}; shape {shape}); expected finite logits or log-probs (-inf is allowed as log 0)"
        )
    dead = torch.zeros(1, dtype=torch.bool) if all_finite else torch.isneginf(x).all(dim=-1) & valid.squeeze(-1)
    if bool(dead.any()):
        b, t = (int(i) for i in dead.nonzero()[0])
        raise InputError(
            f"logits frame {t} of utterance {b} is -inf for every class (shape {shape}); each frame "
            f"needs at least one finite score"
        )
    if input_type == "probs":
        if bool(((x < 0) & valid).any()):
            raise InputError(f"input_type='probs' but logits contain negative values (shape {shape})")
        return LogProbBatch(_log_probs_from_probs(x), n)
    if input_type == "auto" and _looks_like_probs(x, valid):
        raise InputError(
            f"logits look like probabilities (every value is in [0, 1] and every frame sums to 1; shape "
            f"{shape}); pass raw logits or log-probabilities (e.g. torch.log_softmax), or set "
            f"input_type='probs' to decode probabilities on purpose"
        )
    return LogProbBatch(torch.log_softmax(x, dim=-1), n)


def _log_probs_from_probs(x: torch.Tensor) -> torch.Tensor:
    import torch
    logp = torch.log(x.clamp_min(1e-30))
    return logp - torch.logsumexp(logp, dim=-1, keepdim=True)


def _looks_like_probs(x: torch.Tensor, valid: torch.Tensor) -> bool:
    if x.shape[-1] < 2:
        return False
    if bool(valid.all()) and (float(x.amin()) < 0 or float(x.amax()) > 1):
        return False  # no padding: two reductions rule probabilities out without copying frames
    mask = valid.expand_as(x)
    values = x[mask]
    if values.numel() == 0 or x.shape[-1] < 2:
        return False
    if bool((values < 0).any()) or bool((values > 1).any()):
        return False
    sums = x.sum(dim=-1)[valid.squeeze(-1)]
    return bool(((sums - 1).abs() < 1e-3).all())


def read_text_file(path: str | Path, what: str) -> str:
    """The text of a UTF-8 file the user gave, or one clear error naming ``what`` and the file.

    Raises :class:`~ctcdecode_kit.errors.MissingFileError` for a missing file and
    :class:`~ctcdecode_kit.errors.FileFormatError` for bytes that are not UTF-8.

    Example:
        >>> read_text_file("no-such-lexicon.txt", "lexicon file")
        Traceback (most recent call last):
        ...
        ctcdecode_kit.errors.MissingFileError: lexicon file 'no-such-lexicon.txt' does not exist
    """
    from .errors import FileFormatError, MissingFileError

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{what} {str(path)!r} does not exist")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{what} {str(path)!r} is not valid UTF-8 ({exc.reason})") from exc
