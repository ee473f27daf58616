"""ctcdecode_kit: decode CTC logits with interchangeable decoders and measure which wins.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "H", "I"])
    >>> logits = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]]))
    >>> for name in ("greedy", "pyctcdecode"):
    ...     print(name, build_decoder(name, vocab).decode(logits)[0][0].text)
    greedy HI
    pyctcdecode HI
"""

from __future__ import annotations

from ._version import __version__
from .decoder import Decoder, DecoderBase, build_decoder, list_decoders, register_decoder
from .errors import CTCDecodeKitError
from .hypothesis import Hypothesis, Word
from .vocabulary import AUTO, Vocabulary

__all__ = [
    "AUTO",
    "CTCDecodeKitError",
    "Decoder",
    "DecoderBase",
    "Hypothesis",
    "Vocabulary",
    "Word",
    "__version__",
    "build_decoder",
    "list_decoders",
    "register_decoder",
]
