"""A comparison's report: corpus scores per decoder, ``results.json`` / ``.csv`` and the plot.

Example:
    >>> rows = [{"decoder": "greedy", "id": "a", "reference": "HI", "text": "HI", "frames": 50, "decode_seconds": 0.01}]
    >>> summarise(rows, ["greedy"], ["a"], frame_rate=50.0)[0].wer
    0.0
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .journal import atomic_write_bytes, atomic_write_json, atomic_write_text

__all__ = ["Comparison", "DecoderResult", "plot_png", "summarise", "write_summary"]


@dataclass(frozen=True)
class DecoderResult:
    """Corpus scores and timing of one decoder."""

    decoder: str
    wer: float
    cer: float
    substitutions: int
    deletions: int
    insertions: int
    ref_words: int
    n_utterances: int
    decode_seconds: float
    audio_seconds: float
    rtf: float
    wer_change_vs_greedy: float | None


@dataclass(frozen=True)
class Comparison:
    """What :func:`~ctcdecode_kit.runs.compare.compare` returns (and writes to ``results.json``)."""

    results: tuple[DecoderResult, ...]
    settings: dict[str, Any]
    acoustic_seconds: float
    wall_seconds: float
    output_dir: Path | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``results.json``."""
        return {
            "settings": self.settings,
            "acoustic_seconds": self.acoustic_seconds,
            "wall_seconds": self.wall_seconds,
            "decoders": [asdict(r) for r in self.results],
        }


def _change(wer: float, greedy_wer: float | None) -> float | None:
    if greedy_wer is None:
        return None
    if greedy_wer > 0:
        return (wer - greedy_wer) / greedy_wer
    return 0.0 if wer == 0 else math.inf


def summarise(
    records: Sequence[Mapping[str, Any]] | Mapping[tuple[str, str], Mapping[str, Any]],
    labels: Sequence[str],
    ids: Sequence[str],
    *,
    frame_rate: float,
) -> tuple[DecoderResult, ...]:
    """Corpus WER/CER, error counts and timing of each decoder over ``ids``.

    ``records`` are the journal's rows (``decoder``, ``id``, ``reference``, ``text``,
    ``frames``, ``decode_seconds``), as a list or keyed by ``(decoder, id)``. Rows that
    carry their alignment ``counts`` (:func:`~ctcdecode_kit.runs.engine.utterance_counts`)
    are summed, never averaged; otherwise the corpus is scored from the texts.
    """
    from ..metrics import score

    by_key = records if isinstance(records, Mapping) else {(r["decoder"], r["id"]): r for r in records}
    scored = []
    for label in labels:
        rows = [by_key[(label, u)] for u in ids]
        scores = _summed(rows) or score([r["reference"] for r in rows], [r["text"] for r in rows])
        decode_seconds = float(sum(r["decode_seconds"] for r in rows))
        audio_seconds = float(sum(r["frames"] for r in rows)) / frame_rate
        scored.append((label, scores, decode_seconds, audio_seconds))
    greedy_wer = next((s.wer for label, s, _, _ in scored if label == "greedy"), None)
    return tuple(
        DecoderResult(
            decoder=label,
            wer=scores.wer,
            cer=scores.cer,
            substitutions=scores.substitutions,
            deletions=scores.deletions,
            insertions=scores.insertions,
            ref_words=scores.ref_words,
            n_utterances=len(ids),
            decode_seconds=decode_seconds,
            audio_seconds=audio_seconds,
            rtf=decode_seconds / audio_seconds if audio_seconds else 0.0,
            wer_change_vs_greedy=_change(scores.wer, greedy_wer),
        )
        for label, scores, decode_seconds, audio_seconds in scored
    )


def _summed(rows: Sequence[Mapping[str, Any]]) -> Any:
    """Corpus :class:`~ctcdecode_kit.metrics.Scores` from per-utterance counts (None: some row has none,
    or the references hold no words, which ``score`` reports)."""
    from ..metrics import Scores

    if not rows or any("counts" not in r for r in rows):
        return None
    total = {name: sum(int(r["counts"][name]) for r in rows) for name in rows[0]["counts"]}
    if total["ref_words"] == 0:
        return None
    errors = total["substitutions"] + total["deletions"] + total["insertions"]
    return Scores(wer=errors / total["ref_words"], cer=total["char_errors"] / total["ref_chars"],
                  n_utterances=len(rows), **total)


def write_summary(comparison: Comparison, out: Path) -> None:
    """Write results.json, results.csv and wer_vs_time.png (each atomically)."""
    atomic_write_json(out / "results.json", comparison.to_dict())
    buffer = io.StringIO()
    fields = list(asdict(comparison.results[0]).keys()) if comparison.results else []
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for r in comparison.results:
        writer.writerow(asdict(r))
    atomic_write_text(out / "results.csv", buffer.getvalue())
    atomic_write_bytes(out / "wer_vs_time.png", plot_png(comparison))


def plot_png(comparison: Comparison) -> bytes:
    """A PNG scatter plot of WER against decode time per decoder."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.2), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    for r in comparison.results:
        seconds = max(r.decode_seconds, 1e-4)
        ax.scatter([seconds], [100 * r.wer], s=60)
        ax.annotate(r.decoder, (seconds, 100 * r.wer), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("decode time for the whole set (s, log scale)")
    ax.set_ylabel("WER (%)")
    ax.set_title(f"WER vs decode time ({comparison.settings.get('n_utterances')} utterances)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
