"""Reading logits saved by any model: ``.npy`` (numpy) or ``.pt`` (torch) files.

Example:
    >>> from ctcdecode_kit.logits_io import load_logits
    >>> load_logits("../shared/data/wav2vec2-logits/121-121726-0000.npy").shape  # doctest: +SKIP
    (422, 32)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import FileFormatError, InputError, MissingFileError

__all__ = ["load_logits"]


def load_logits(path: str | Path, *, vocab_size: int | None = None) -> np.ndarray:
    """Load one utterance's logits as a float array ``[T, V]``.

    A leading batch dimension of 1 is dropped. ``vocab_size`` checks ``V``.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"logits file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix in (".pt", ".pth"):
            import torch

            obj = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(obj, dict):
                obj = obj.get("logits", obj.get("emissions"))
            if not isinstance(obj, torch.Tensor):
                raise FileFormatError(
                    f"logits file {str(path)!r} holds {type(obj).__name__}; expected a tensor "
                    f"(or a dict with a 'logits' tensor)"
                )
            array = obj.detach().float().numpy()
        else:
            raise FileFormatError(f"logits file {str(path)!r} must be .npy or .pt, got {suffix or 'no suffix'!r}")
    except (ValueError, OSError, EOFError, RuntimeError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"cannot read logits file {str(path)!r}: {exc}") from exc
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise InputError(f"logits file {str(path)!r} has shape {array.shape}; expected [T, V] or [1, T, V]")
    if vocab_size is not None and array.shape[1] != vocab_size:
        raise InputError(
            f"logits file {str(path)!r} has {array.shape[1]} classes (shape {array.shape}) but the "
            f"vocabulary has {vocab_size} tokens"
        )
    return array
