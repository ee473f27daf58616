"""The embedded offline default: a small espeak-trained model, held-out audio and an LM.

They ship inside the package (``ctcdecode_kit/data/default``) so that
``ctcdecode-kit compare`` shows a real comparison with no network and no GPU.

Example:
    >>> from ctcdecode_kit.default import default_assets
    >>> assets = default_assets()
    >>> assets.model_dir.name, assets.eval_dir.name, assets.lm_path.name
    ('model', 'eval', 'lm.arpa')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import MissingFileError

__all__ = ["DefaultAssets", "default_assets"]

DATA_DIR = Path(__file__).resolve().parent / "data" / "default"


@dataclass(frozen=True)
class DefaultAssets:
    """Paths of the shipped default model, evaluation set and language model."""

    model_dir: Path
    eval_dir: Path
    lm_path: Path | None


def default_assets() -> DefaultAssets:
    """Locate the shipped assets, or raise MissingFileError saying what is missing."""
    model_dir, eval_dir = DATA_DIR / "model", DATA_DIR / "eval"
    for path in (model_dir / "config.json", eval_dir / "trans.txt"):
        if not path.exists():
            raise MissingFileError(
                f"the embedded default data is missing ({path}); reinstall ctcdecode-kit, or pass "
                f"--model and --data (or --logits) explicitly"
            )
    lm = next((p for p in (DATA_DIR / "lm.arpa", DATA_DIR / "lm.bin") if p.exists()), None)
    return DefaultAssets(model_dir, eval_dir, lm)
