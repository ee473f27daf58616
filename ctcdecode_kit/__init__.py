"""ctcdecode_kit: decode CTC logits with interchangeable decoders and measure which wins.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "H", "I"])
    >>> logits = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]]))
    >>> for name in ("greedy", "native"):
    ...     print(name, build_decoder(name, vocab).decode(logits)[0][0].text)
    greedy HI
    native HI
"""

from __future__ import annotations

# First: when this is a checkout's source folder (which shadows an installed copy when Python
# runs from the repository root), it lets ctcdecode_kit.lm / .cli / ._native resolve; see there.
from . import _source_tree  # noqa: F401
from ._version import __version__
from .decoder import Decoder, DecoderBase, build_decoder, list_decoders, register_decoder
from .errors import CTCDecodeKitError
from .hypothesis import Hypothesis, Word
from .vocabulary import AUTO, Vocabulary

# Heavier parts load on first use, so `import ctcdecode_kit` stays fast.
_LAZY = {
    "AcousticModel": "ctcdecode_kit.acoustic",
    "Emissions": "ctcdecode_kit.acoustic",
    "Lexicon": "ctcdecode_kit.lexicon",
    "load_audio": "ctcdecode_kit.audio",
    "Utterance": "ctcdecode_kit.datasets",
    "load_dataset": "ctcdecode_kit.datasets",
    "transcribe": "ctcdecode_kit.runs.transcribe",
    "from_pretrained": "ctcdecode_kit.pretrained",
    "save_pretrained": "ctcdecode_kit.pretrained",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ctcdecode_kit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AUTO",
    "AcousticModel",
    "Emissions",
    "Lexicon",
    "Utterance",
    "load_audio",
    "load_dataset",
    "transcribe",
    "CTCDecodeKitError",
    "Decoder",
    "DecoderBase",
    "Hypothesis",
    "Vocabulary",
    "Word",
    "__version__",
    "build_decoder",
    "from_pretrained",
    "save_pretrained",
    "list_decoders",
    "register_decoder",
]
