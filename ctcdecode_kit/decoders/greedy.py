"""Greedy (best path) CTC decoding: argmax per frame, collapse repeats, drop blanks.

The argmax runs on the tensor's own device for the whole batch; only the ``[B, T]``
path of token ids (not the ``[B, T, V]`` scores) is copied to the CPU to build text.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> path = [2, 2, 0, 2, 1, 3, 3]                       # A A _ A | B B
    >>> logits = np.full((7, 4), -5.0, dtype=np.float32); logits[np.arange(7), path] = 0
    >>> hyp = build_decoder("greedy", vocab, frame_rate=50).decode(logits)[0][0]
    >>> hyp.text, [(w.text, w.start_frame, w.end_frame, w.end_time) for w in hyp.words]
    ('AA B', [('AA', 0, 4, 0.08), ('B', 5, 7, 0.14)])
"""

from __future__ import annotations

import numpy as np
import torch

from ..decoder import DecoderBase, register_decoder
from ..hypothesis import Hypothesis
from ..inputs import LogProbBatch
from ..vocabulary import Vocabulary

__all__ = ["GreedyDecoder", "collapse_path"]


def collapse_path(path: np.ndarray, blank: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse a best path into (token ids, start frames, end frames), blanks removed.

    Example:
        >>> ids, starts, ends = collapse_path(np.array([0, 2, 2, 0, 2, 3]), blank=0)
        >>> ids.tolist(), starts.tolist(), ends.tolist()
        ([2, 2, 3], [1, 4, 5], [3, 5, 6])
    """
    if path.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    run_starts = np.flatnonzero(np.r_[True, path[1:] != path[:-1]])
    run_ends = np.r_[run_starts[1:], path.size]
    run_ids = path[run_starts]
    keep = run_ids != blank
    return run_ids[keep].astype(np.int64), run_starts[keep], run_ends[keep]


class GreedyDecoder(DecoderBase):
    """Best-path decoding. ``nbest`` > 1 still returns one hypothesis (there is one path).

    Args:
        vocabulary: output vocabulary.
        frame_rate: frames per second, to report word times in seconds.
        input_type: ``"auto"`` (logits or log-probs), ``"logits"``, ``"log_probs"`` or ``"probs"``.
        nbest: accepted for interface symmetry.
    """

    name = "greedy"

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        frame_rate: float | None = None,
        input_type: str = "auto",
        nbest: int = 1,
    ) -> None:
        super().__init__(vocabulary, frame_rate=frame_rate, input_type=input_type, nbest=nbest)  # type: ignore[arg-type]
        self._config = {"frame_rate": frame_rate, "input_type": input_type, "nbest": nbest}

    def _decode_batch(self, batch: LogProbBatch, nbest: int) -> list[list[Hypothesis]]:
        log_probs, lengths = batch.log_probs, batch.lengths
        best, path = log_probs.max(dim=-1)
        valid = torch.arange(log_probs.shape[1], device=log_probs.device).unsqueeze(0) < lengths.to(
            log_probs.device
        ).unsqueeze(1)
        scores = torch.where(valid, best, torch.zeros_like(best)).sum(dim=1).to("cpu").tolist()
        paths = path.to("cpu").numpy()
        results = []
        for b, n in enumerate(lengths.tolist()):
            ids, starts, ends = collapse_path(paths[b, :n], self.vocabulary.blank)
            words = self.vocabulary.words(ids.tolist(), starts.tolist(), ends.tolist(), self.frame_rate)
            text = " ".join(w.text for w in words)
            results.append(
                [Hypothesis(text, tuple(ids.tolist()), float(scores[b]), float(scores[b]), 0.0, tuple(words))]
            )
        return results


register_decoder("greedy", GreedyDecoder, overwrite=True)
