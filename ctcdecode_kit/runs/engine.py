"""The engine both runners share: one plan, one way to decode a batch, one sink for the results.

``compare`` and ``transcribe --data`` run in one process (:func:`feed_local`) or on a Ray
cluster (:mod:`ctcdecode_kit.runs.ray_runner`). Both runners take the same
:class:`RunPlan` (items, decoder specs, shared settings, vocabulary, acoustic model, batch
size, fingerprint), decode with :func:`decode_batch` (the one place that turns log-probs
into journal records, each with its per-utterance alignment counts) and hand the records to
one :class:`Sink`, which drops any (decoder, utterance) pair it already holds, appends the
rest to the journal (fsynced) and reports progress. So a Ray worker that is retried, or a
run resumed by the other runner, never writes a pair twice, and the summary is computed
from the same records either way.

Which runner ran is not part of the plan's fingerprint: a run started on Ray can be resumed
in one process, and the reverse.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> probs = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]], np.float32))
    >>> [(label, r["text"], r["counts"]["ref_words"]) for label, rs in
    ...  decode_batch({"greedy": build_decoder("greedy", vocab)}, ["u1"], ["A B"], [probs], [["greedy"]], 4)
    ...  for r in rs]
    [('greedy', 'AB', 2)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..decoder import Decoder
from ..vocabulary import Vocabulary
from .journal import Journal
from .logits_cache import LogitsCache, iter_log_probs
from .specs import DecoderSpec, SharedSettings, build_from_spec

__all__ = [
    "COUNT_FIELDS",
    "Progress",
    "RunPlan",
    "Sink",
    "audio_path",
    "build_decoders",
    "close_decoders",
    "decode_batch",
    "feed_local",
    "make_record",
    "pad_batch",
    "utterance_counts",
]

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: called as work finishes (task is "acoustic" or a decoder label)."""

COUNT_FIELDS = ("substitutions", "deletions", "insertions", "hits", "ref_words", "ref_chars", "char_errors")
"""The alignment counts each record carries; corpus WER and CER are their sums' ratios."""


@dataclass(frozen=True)
class RunPlan:
    """Everything a run needs, checked, with the fingerprint of what its results depend on."""

    utterances: tuple[Any, ...]
    specs: tuple[DecoderSpec, ...]
    shared: SharedSettings
    vocabulary: Vocabulary
    model: Any
    batch_size: int
    settings: dict[str, Any]
    fingerprint: dict[str, Any]

    @property
    def ids(self) -> list[str]:
        """Utterance ids in dataset order."""
        return [u.id for u in self.utterances]

    @property
    def labels(self) -> list[str]:
        """Decoder labels in table order."""
        return [s.label for s in self.specs]

    @property
    def frame_rate(self) -> float:
        """Frames per second of the logits."""
        return float(self.shared.frame_rate or 50.0)


def utterance_counts(reference: str, text: str) -> dict[str, int]:
    """Word and character alignment counts of one utterance (the same rule as :func:`~ctcdecode_kit.metrics.score`).

    Summing these over a corpus gives exactly the corpus counts that ``score`` computes
    over the whole list, so corpus WER / CER are ratios of sums, never averages of rates.
    A reference without words (allowed for unlabelled data) counts the hypothesis as insertions.

    Example:
        >>> utterance_counts("A B C", "A X")["substitutions"], utterance_counts("", "A B")["insertions"]
        (1, 2)
    """
    from ..metrics import normalize_text, score

    hyp = normalize_text(text)
    if not normalize_text(reference).split():
        return {**dict.fromkeys(COUNT_FIELDS, 0), "insertions": len(hyp.split()), "char_errors": len(hyp)}
    scores = score([reference], [text])
    return {name: int(getattr(scores, name)) for name in COUNT_FIELDS}


def audio_path(utt: Any) -> str | None:
    """The absolute path of an utterance's audio file (None for saved logits and in-memory audio)."""
    path = getattr(utt, "path", None)
    if path is None or getattr(utt, "logits", None) is not None:
        return None
    return str(Path(path).resolve())


def make_record(label: str, utt_id: str, reference: str, best: Any, frames: int, seconds: float, *,
                nbest: Sequence[Any] | None = None, audio: str | None = None) -> dict[str, Any]:
    """The journal record of one (decoder, utterance): text, scores, word times, counts, timing; with
    ``nbest`` (the decoder's hypotheses, best first) a field ``nbest`` of their texts and scores, and with
    ``audio`` the audio file's path (for the report's player)."""
    record = {
        "decoder": label,
        "id": utt_id,
        "reference": reference,
        "text": best.text,
        "score": best.score,
        "am_score": best.am_score,
        "lm_score": best.lm_score,
        "frames": frames,
        "decode_seconds": seconds,
        "words": [[w.text, w.start_time, w.end_time] for w in best.words],
        "counts": utterance_counts(reference, best.text),
    }
    if nbest is not None:
        record["nbest"] = [{"text": h.text, "score": h.score, "am_score": h.am_score, "lm_score": h.lm_score}
                           for h in nbest]
    if audio is not None:
        record["audio"] = audio
    return record


def pad_batch(arrays: Sequence[np.ndarray], vocab_size: int) -> np.ndarray:
    """``[B, T_max, V]`` float32 with each ``[T, V]`` array at the top of its row."""
    padded = np.zeros((len(arrays), max([a.shape[0] for a in arrays] + [0]), vocab_size), dtype=np.float32)
    for i, a in enumerate(arrays):
        padded[i, : a.shape[0]] = a
    return padded


def decode_batch(
    decoders: Mapping[str, Decoder],
    ids: Sequence[str],
    references: Sequence[str],
    arrays: Sequence[np.ndarray],
    todo: Sequence[Collection[str]],
    vocab_size: int,
    *,
    nbest: int | None = None,
    audio: Sequence[str | None] | None = None,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Decode one batch with each decoder, only the utterances whose ``todo`` names it.

    Yields ``(label, records)`` per decoder as each finishes (see :func:`make_record`);
    ``decode_seconds`` is the decoder's batch time divided over the batch.
    """
    lengths = [a.shape[0] for a in arrays]
    padded = pad_batch(arrays, vocab_size)
    for label, decoder in decoders.items():
        rows = [i for i in range(len(ids)) if label in todo[i]]
        if not rows:
            continue
        t0 = time.perf_counter()
        hyps = decoder.decode(padded[rows], [lengths[i] for i in rows], nbest=nbest)
        seconds = (time.perf_counter() - t0) / len(rows)
        yield label, [make_record(label, ids[i], references[i], kept[0], lengths[i], seconds,
                                  nbest=kept if nbest is not None else None, audio=audio[i] if audio else None)
                      for i, kept in zip(rows, hyps)]


def build_decoders(specs: Sequence[DecoderSpec], vocabulary: Vocabulary, shared: SharedSettings) -> dict[str, Decoder]:
    """Every decoder of the plan, by label (each LM is loaded once per process: lm/cache.py)."""
    decoders: dict[str, Decoder] = {}
    try:
        for spec in specs:
            decoders[spec.label] = build_from_spec(spec, vocabulary, shared, strict=False)
    except BaseException:
        close_decoders(decoders)
        raise
    return decoders


def close_decoders(decoders: Mapping[str, Any]) -> None:
    """Release the decoders' worker pools."""
    for decoder in decoders.values():
        close = getattr(decoder, "close", None)
        if close is not None:
            close()


class Sink:
    """Where records go: deduplicated by (decoder, utterance id), journaled, counted, reported.

    Args:
        labels: the run's decoder labels.
        total: utterances in the run (for progress).
        journal: the fsynced journal (None: keep records in memory only). Its records
            (from ``resume``) count as finished.
        progress: ``progress(task, done, total)``.
        to_line: the journal form of a record (default: the record itself); it must keep
            ``decoder`` and ``id``.
    """

    def __init__(self, labels: Sequence[str], total: int, journal: Journal | None = None,
                 progress: Progress | None = None,
                 to_line: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.labels, self.total, self.journal, self.progress = list(labels), total, journal, progress
        self.to_line = to_line
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        for record in journal.records if journal is not None else []:
            self.records.setdefault((record["decoder"], record["id"]), record)
        self.counts = {label: sum(1 for (d, _) in self.records if d == label) for label in self.labels}

    def todo(self, utt_id: str) -> list[str]:
        """The labels that have not finished ``utt_id``."""
        return [label for label in self.labels if (label, utt_id) not in self.records]

    def report(self, task: str, done: int) -> None:
        """Call the progress callback, if any."""
        if self.progress is not None:
            self.progress(task, done, self.total)

    def report_all(self) -> None:
        """Report every decoder's count (at the start of a run or a resume)."""
        for label in self.labels:
            self.report(label, self.counts[label])

    def accept(self, records: Sequence[dict[str, Any]]) -> int:
        """Journal the records not held yet (one fsync); how many were new."""
        new: list[dict[str, Any]] = []
        for record in records:
            line = self.to_line(record) if self.to_line is not None else record
            key = (line["decoder"], line["id"])
            if key in self.records:
                continue  # a retried worker or an overlapping resume: written once only
            self.records[key] = line
            new.append(line)
        if self.journal is not None:
            self.journal.extend(new)
        touched = {line["decoder"] for line in new}
        for line in new:
            self.counts[line["decoder"]] += 1
        for label in self.labels:
            if label in touched:
                self.report(label, self.counts[label])
        return len(new)


def feed_local(plan: RunPlan, decoders: Mapping[str, Decoder], sink: Sink, cache: LogitsCache | None) -> float:
    """The one-process runner: acoustic batches to the decoders, one batch decoding while the
    next is computed (on a GPU the two overlap fully). Returns the acoustic seconds."""
    todo = [u for u in plan.utterances if sink.todo(u.id)]
    finished = len(plan.utterances) - len(todo)
    sink.report("acoustic", finished)
    acoustic_seconds = 0.0
    pending: Future | None = None

    def decode(chunk: list[Any], arrays: list[np.ndarray]) -> None:
        for _label, records in decode_batch(decoders, [u.id for u in chunk], [u.reference for u in chunk], arrays,
                                            [sink.todo(u.id) for u in chunk], len(plan.vocabulary),
                                            nbest=plan.settings.get("nbest"), audio=[audio_path(u) for u in chunk]):
            sink.accept(records)

    with ThreadPoolExecutor(max_workers=1) as worker:
        batches = iter_log_probs(todo, plan.model, plan.vocabulary, plan.batch_size, cache)
        while True:
            t0 = time.perf_counter()
            item = next(batches, None)
            acoustic_seconds += time.perf_counter() - t0
            if item is None:
                break
            finished += len(item[0])
            sink.report("acoustic", finished)
            if pending is not None:
                pending.result()
            pending = worker.submit(decode, *item)
        if pending is not None:
            pending.result()
    return acoustic_seconds
