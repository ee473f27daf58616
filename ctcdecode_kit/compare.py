"""Run several decoders on the same logits and compare their WER, CER and speed.

:func:`compare` runs the acoustic model once per utterance (or reads saved logits),
decodes every batch with every requested decoder, and writes as it goes:

* ``hyps.jsonl``: one line per (decoder, utterance), fsynced per batch (the journal that
  ``resume=True`` continues from; see :mod:`ctcdecode_kit.results`);
* ``logits/<id>.npy``: the acoustic model's log-probs, so a resumed run skips the
  acoustic pass for finished utterances;
* ``results.json`` / ``results.csv`` / ``wer_vs_time.png``: the summary, written atomically.

While the decoders work on batch N in a background thread, the acoustic model already
computes batch N+1 (on a GPU the two overlap fully).

Decoder specs are ``NAME[+lm][:key=value,...]``, e.g. ``greedy``, ``pyctcdecode+lm``,
``native+lm:beam_width=50``, ``rescore``.

Example:
    >>> from ctcdecode_kit.compare import parse_decoder_spec
    >>> parse_decoder_spec("pyctcdecode+lm:beam_width=50")
    DecoderSpec(label='pyctcdecode+lm:beam_width=50', backend='pyctcdecode', use_lm=True, options={'beam_width': 50})
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._version import package_versions
from .decoder import build_decoder, list_decoders
from .errors import InputError, MissingDependencyError, UnknownDecoderError
from .results import Journal, atomic_write_bytes, atomic_write_json, atomic_write_text, ensure_output_dir
from .vocabulary import Vocabulary

__all__ = [
    "Comparison",
    "DecoderResult",
    "DecoderSpec",
    "available_decoder_specs",
    "compare",
    "parse_decoder_spec",
    "utterance_log_probs",
]

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: called as work finishes (task is "acoustic" or a decoder label)."""


@dataclass(frozen=True)
class DecoderSpec:
    """One decoder of a comparison: a registry name, whether it uses the LM, extra options."""

    label: str
    backend: str
    use_lm: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    return text


def parse_decoder_spec(spec: str) -> DecoderSpec:
    """Parse ``NAME[+lm][:key=value,...]`` into a :class:`DecoderSpec`.

    Raises UnknownDecoderError (listing the valid names) for an unknown NAME.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"decoder spec must be a non-empty string, got {spec!r}")
    spec = spec.strip()
    head, _, tail = spec.partition(":")
    name, plus, suffix = head.partition("+")
    if plus and suffix != "lm":
        raise InputError(f"decoder spec {spec!r}: only '+lm' may follow the decoder name (NAME[+lm][:key=value,...])")
    if name not in list_decoders():
        raise UnknownDecoderError(
            f"unknown decoder {name!r} in spec {spec!r}; valid names: {', '.join(list_decoders())} "
            f"(add '+lm' to use the language model, ':key=value' for options)"
        )
    options: dict[str, Any] = {}
    if tail:
        for item in tail.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise InputError(f"decoder spec {spec!r}: options must look like key=value, got {item!r}")
            options[key.strip()] = _parse_value(value.strip())
    return DecoderSpec(spec, name, bool(plus) or name == "rescore", options)


def _native_available() -> bool:
    try:
        build_decoder("native", Vocabulary.from_labels(["<pad>", "|", "a"]))
    except (MissingDependencyError, ImportError, UnknownDecoderError):
        return False
    except Exception:  # noqa: BLE001 - any construction problem means "not usable"
        return False
    return True


def available_decoder_specs(with_lm: bool) -> list[str]:
    """The default decoder specs: every built-in beam backend, with and without the LM."""
    beams = ["pyctcdecode"] + (["native"] if _native_available() else [])
    specs = ["greedy", *beams]
    if with_lm:
        specs += [f"{b}+lm" for b in beams] + ["rescore"]
    return specs


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
    """What :func:`compare` returns (and writes to ``results.json``)."""

    results: tuple[DecoderResult, ...]
    settings: dict[str, Any]
    acoustic_seconds: float
    wall_seconds: float
    output_dir: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "acoustic_seconds": self.acoustic_seconds,
            "wall_seconds": self.wall_seconds,
            "decoders": [asdict(r) for r in self.results],
        }


def _build(spec: DecoderSpec, vocabulary: Vocabulary, lm: str | None, alpha: float, beta: float,
           beam_width: int, frame_rate: float | None) -> Any:
    options: dict[str, Any] = {"frame_rate": frame_rate}
    if spec.backend in ("pyctcdecode", "native"):
        options["beam_width"] = beam_width
    if spec.use_lm:
        if lm is None:
            raise InputError(f"decoder {spec.label!r} needs a language model; pass --lm PATH (an ARPA or KenLM file)")
        if spec.backend == "rescore":
            first = "native" if _native_available() else "pyctcdecode"
            options.update(
                first_pass=first,
                first_pass_options={"beam_width": beam_width},
                candidates=min(64, beam_width),
                lms=[lm],
                alphas=[alpha],
                beta=beta,
            )
        else:
            options.update(lm=lm, alpha=alpha, beta=beta)
    options.update(spec.options)
    return build_decoder(spec.backend, vocabulary, **options)


def _save_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def compare(
    utterances: Sequence[Any],
    *,
    decoders: Sequence[str] | None = None,
    model: Any = None,
    vocabulary: Vocabulary | None = None,
    frame_rate: float | None = None,
    lm: str | Path | None = None,
    alpha: float = 0.5,
    beta: float = 1.0,
    beam_width: int = 100,
    batch_size: int = 8,
    output_dir: str | Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    settings: dict[str, Any] | None = None,
) -> Comparison:
    """Decode ``utterances`` with every decoder and score them against their references.

    Args:
        utterances: :class:`~ctcdecode_kit.datasets.Utterance` objects (audio, or saved
            logits in ``.logits``) with ``.id`` and ``.reference``.
        decoders: specs (see :func:`parse_decoder_spec`); None: all available.
        model: an :class:`~ctcdecode_kit.AcousticModel` for audio utterances.
        vocabulary / frame_rate: required for saved logits without a model.
        lm, alpha, beta, beam_width: shared settings of the LM decoders.
        output_dir: where results are written as they are produced (None: nowhere).
        resume: continue an interrupted run in ``output_dir``.
        progress: optional ``progress(task, done, total)`` callback.

    Example:
        >>> from ctcdecode_kit.datasets import load_dataset                     # doctest: +SKIP
        >>> data = load_dataset("../shared/data/wav2vec2-logits")               # doctest: +SKIP
        >>> cmp = compare(data, decoders=["greedy"], vocabulary=data.vocabulary, frame_rate=50)  # doctest: +SKIP
        >>> cmp.results[0].wer                                                   # doctest: +SKIP
        0.0
    """
    from .metrics import score

    started = time.perf_counter()
    utterances = list(utterances)
    if not utterances:
        raise InputError("the dataset is empty: nothing to compare")
    if model is not None:
        vocabulary = model.vocabulary
        frame_rate = model.frame_rate
    if vocabulary is None:
        raise InputError("saved logits need a vocabulary (a vocab.json beside them or --vocab)")
    rate = frame_rate or 50.0
    lm_path = str(lm) if lm is not None else None
    specs = [parse_decoder_spec(s) for s in (decoders or available_decoder_specs(lm_path is not None))]
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise InputError(f"decoder specs must be unique, got {labels}")
    ids = [u.id for u in utterances]
    if len(set(ids)) != len(ids):
        raise InputError("utterance ids must be unique within the dataset")
    all_settings = {
        **(settings or {}),
        "decoders": labels,
        "lm": lm_path,
        "alpha": alpha,
        "beta": beta,
        "beam_width": beam_width,
        "frame_rate": rate,
        "n_utterances": len(utterances),
    }
    built = {s.label: _build(s, vocabulary, lm_path, alpha, beta, beam_width, rate) for s in specs}

    out = ensure_output_dir(output_dir) if output_dir is not None else None
    journal: Journal | None = None
    done: set[tuple[str, str]] = set()
    if out is not None:
        journal = Journal(out / "hyps.jsonl", header={"settings": all_settings, "ids": ids}, resume=resume)
        done = {(r["decoder"], r["id"]) for r in journal.records}
        (out / "logits").mkdir(exist_ok=True)
    records: dict[tuple[str, str], dict[str, Any]] = {(r["decoder"], r["id"]): r for r in (journal.records if journal else [])}
    acoustic_seconds = 0.0
    counts = {label: sum(1 for (d, _) in done if d == label) for label in labels}
    total = len(utterances)

    def report(task: str, finished: int) -> None:
        if progress is not None:
            progress(task, finished, total)

    for label in labels:
        report(label, counts[label])

    def decode_batch(batch_ids: list[str], arrays: list[np.ndarray], refs: list[str]) -> None:
        lengths = [a.shape[0] for a in arrays]
        padded = np.zeros((len(arrays), max(lengths + [0]), len(vocabulary)), dtype=np.float32)
        for i, a in enumerate(arrays):
            padded[i, : a.shape[0]] = a
        for label in labels:
            todo = [i for i, u in enumerate(batch_ids) if (label, u) not in done]
            if not todo:
                continue
            t0 = time.perf_counter()
            hyps = built[label].decode(padded[todo], [lengths[i] for i in todo])
            seconds = (time.perf_counter() - t0) / len(todo)
            new = []
            for i, nbest in zip(todo, hyps):
                best = nbest[0]
                new.append({
                    "decoder": label,
                    "id": batch_ids[i],
                    "reference": refs[i],
                    "text": best.text,
                    "score": best.score,
                    "am_score": best.am_score,
                    "lm_score": best.lm_score,
                    "frames": lengths[i],
                    "decode_seconds": seconds,
                    "words": [[w.text, w.start_time, w.end_time] for w in best.words],
                })
            for r in new:
                records[(label, r["id"])] = r
            if journal is not None:
                journal.extend(new)
            counts[label] += len(new)
            report(label, counts[label])

    pending: Future | None = None
    finished_acoustic = total - sum(1 for u in utterances if any((label, u.id) not in done for label in labels))
    report("acoustic", finished_acoustic)
    with ThreadPoolExecutor(max_workers=1) as worker:
        batches = _acoustic_batches(utterances, done, labels, model, out, vocabulary, batch_size)
        while True:
            t0 = time.perf_counter()
            item = next(batches, None)
            acoustic_seconds += time.perf_counter() - t0
            if item is None:
                break
            chunk, arrays = item
            finished_acoustic += len(chunk)
            report("acoustic", finished_acoustic)
            if pending is not None:
                pending.result()
            pending = worker.submit(decode_batch, [u.id for u in chunk], arrays, [u.reference for u in chunk])
        if pending is not None:
            pending.result()
    for decoder in built.values():
        close = getattr(decoder, "close", None)
        if close is not None:
            close()

    results = []
    greedy_wer = None
    for label in labels:
        rows = [records[(label, u)] for u in ids]
        scores = score([r["reference"] for r in rows], [r["text"] for r in rows])
        decode_seconds = float(sum(r["decode_seconds"] for r in rows))
        audio_seconds = float(sum(r["frames"] for r in rows)) / rate
        if label == "greedy":
            greedy_wer = scores.wer
        results.append((label, scores, decode_seconds, audio_seconds))
    final = []
    for label, scores, decode_seconds, audio_seconds in results:
        change = None
        if greedy_wer is not None and greedy_wer > 0:
            change = (scores.wer - greedy_wer) / greedy_wer
        elif greedy_wer == 0:
            change = 0.0 if scores.wer == 0 else math.inf
        final.append(
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
                wer_change_vs_greedy=change,
            )
        )
    comparison = Comparison(
        tuple(final),
        {**all_settings, "versions": package_versions()},
        acoustic_seconds,
        time.perf_counter() - started,
        out,
    )
    if out is not None:
        write_summary(comparison, out)
    return comparison


def _cache_path(out: Path | None, utt: Any) -> Path | None:
    return out / "logits" / f"{utt.id}.npy" if out is not None else None


def _acoustic_batches(
    utterances: Sequence[Any],
    done: set[tuple[str, str]],
    labels: Sequence[str],
    model: Any,
    out: Path | None,
    vocabulary: Vocabulary,
    batch_size: int,
) -> Iterator[tuple[list[Any], list[np.ndarray]]]:
    """(utterances, log-probs) batches of the unfinished work.

    Saved or cached logits come in dataset order; audio goes through the model's
    ``iter_logits``, which batches utterances of similar length (least padding, which
    matters for models that take no attention mask).
    """
    todo = [u for u in utterances if any((label, u.id) not in done for label in labels)]
    ready = [u for u in todo if getattr(u, "logits", None) is not None or (
        (cached := _cache_path(out, u)) is not None and cached.exists())]
    for start in range(0, len(ready), batch_size):
        chunk = ready[start : start + batch_size]
        yield chunk, _saved_log_probs(chunk, out, vocabulary)
    ready_ids = {u.id for u in ready}
    audio = [u for u in todo if u.id not in ready_ids]
    if not audio:
        return
    if model is None:
        raise InputError("audio utterances need an acoustic model (--model), or give saved logits (--logits)")
    import torch

    sources = [u.path if getattr(u, "path", None) is not None else u.audio for u in audio]
    rates = {getattr(u, "sampling_rate", None) for u in audio if getattr(u, "path", None) is None}
    rate = rates.pop() if len(rates) == 1 and None not in rates else model.sampling_rate
    for emissions in model.iter_logits(sources, sampling_rate=rate, batch_size=batch_size, resample=True):
        log_probs = torch.log_softmax(emissions.logits.float(), dim=-1)
        chunk, arrays = [], []
        for j, i in enumerate(emissions.indices):
            n = int(emissions.lengths[j])
            array = np.ascontiguousarray(log_probs[j, :n].to("cpu").numpy())
            cached = _cache_path(out, audio[i])
            if cached is not None:
                _save_npy(cached, array)
            chunk.append(audio[i])
            arrays.append(array)
        yield chunk, arrays


def _saved_log_probs(chunk: Sequence[Any], out: Path | None, vocabulary: Vocabulary) -> list[np.ndarray]:
    """Log-probs of utterances whose logits are cached in ``out/logits`` or saved with the dataset."""
    from .inputs import prepare_log_probs
    from .logits_io import load_logits

    arrays = []
    for utt in chunk:
        cached = _cache_path(out, utt)
        if cached is not None and cached.exists():
            try:
                arrays.append(np.load(cached, allow_pickle=False))
                continue
            except (ValueError, OSError):
                cached.unlink()  # a torn cache file: recompute it
        logits = utt.logits
        if isinstance(logits, (str, Path)):
            logits = load_logits(logits, vocab_size=len(vocabulary))
        array = prepare_log_probs(logits, None, vocab_size=len(vocabulary)).utterance(0)
        if cached is not None:
            _save_npy(cached, array)
        arrays.append(array)
    return arrays


def utterance_log_probs(
    utterances: Sequence[Any], model: Any, vocabulary: Vocabulary, *, batch_size: int = 8
) -> list[np.ndarray]:
    """Log-probs ``[T, V]`` of each utterance, in order: saved logits, or the acoustic model's.

    Example:
        >>> from ctcdecode_kit.datasets import load_dataset                        # doctest: +SKIP
        >>> data = load_dataset("../shared/data/wav2vec2-logits")                  # doctest: +SKIP
        >>> utterance_log_probs(data, None, data.vocabulary)[0].shape               # doctest: +SKIP
        (422, 32)
    """
    by_id: dict[str, np.ndarray] = {}
    for chunk, arrays in _acoustic_batches(utterances, set(), ["all"], model, None, vocabulary, batch_size):
        by_id.update(zip((u.id for u in chunk), arrays))
    return [by_id[u.id] for u in utterances]


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
