"""Where a run's log-probs come from: the dataset's own files, the run's cache, or the model.

Logits that come with the dataset (a saved-logits folder, or ``Utterance.logits``) are
read from there and never copied into the cache. Audio goes through the acoustic model,
and its log-probs are kept in the run's output folder (``<output>/logits/*.npy``) so that
a rerun of the same run (same ``run.json`` fingerprint: model, data, batching; see
:mod:`ctcdecode_kit.runs.fingerprint`) skips the acoustic pass. The fingerprint is what
makes a cache file valid, so a different model or dataset never reads it.

Cache file names are made safe: an id that is not a plain file name (it holds a path
separator, ``..``, a leading dot, characters outside ``A-Z a-z 0-9 . _ -``, or it would
clash with another id on a case-insensitive file system) gets a sanitised name with a
hash of the id appended, so every id maps to its own file and every file lies directly
inside the cache folder.

Example:
    >>> import tempfile
    >>> cache = LogitsCache(Path(tempfile.mkdtemp()) / "logits", ["a", "/data/x/a", "../b"])
    >>> [cache.path(i).name for i in ("a", "/data/x/a", "../b")]
    ['a.npy', 'data_x_a-...npy', 'b-...npy']
    >>> cache.save("a", np.zeros((2, 3), np.float32)); cache.load("a").shape
    (2, 3)
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..vocabulary import Vocabulary
from .journal import atomic_write_bytes

__all__ = ["LogitsCache", "cache_file_names", "iter_log_probs", "utterance_log_probs"]

_PLAIN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def _hashed(utt_id: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+|\.{2,}", "_", utt_id).strip("._-")[-60:].lstrip("._-")
    key = hashlib.blake2b(utt_id.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    return f"{stem}-{key}" if stem else key


def cache_file_names(ids: Iterable[str]) -> dict[str, str]:
    """A distinct, safe file name (without suffix) for every id.

    Example:
        >>> cache_file_names(["121-121726-0000", "A", "a"])["121-121726-0000"]
        '121-121726-0000'
        >>> len(set(cache_file_names(["A", "a"]).values()))
        2
    """
    ids = list(ids)
    plain = [i for i in ids if _PLAIN.fullmatch(i) and ".." not in i]
    folded: dict[str, int] = {}
    for i in plain:
        folded[i.casefold()] = folded.get(i.casefold(), 0) + 1
    names = {i: (i if i in plain and folded[i.casefold()] == 1 else _hashed(i)) for i in ids}
    if len({n.casefold() for n in names.values()}) != len(names):  # a plain id equal to another's hashed name
        names = {i: _hashed(i) for i in ids}
    return names


class LogitsCache:
    """``[T, V]`` float32 log-probs per utterance id in ``folder`` (written atomically).

    Args:
        folder: the cache folder (``<output>/logits``), created on first write.
        ids: every id the run may store (their file names are assigned together).
    """

    def __init__(self, folder: Path, ids: Iterable[str]) -> None:
        self.folder = Path(folder)
        self._names = cache_file_names(ids)

    def path(self, utt_id: str) -> Path:
        """The file of ``utt_id`` (always directly inside ``folder``)."""
        try:
            name = self._names[utt_id]
        except KeyError:
            raise InputError(f"utterance id {utt_id!r} is not part of this run's logits cache") from None
        return self.folder / f"{name}.npy"

    def load(self, utt_id: str) -> np.ndarray | None:
        """The cached log-probs, or None (not cached, or a torn file, which is removed)."""
        path = self.path(utt_id)
        if not path.exists():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            path.unlink()
            return None

    def save(self, utt_id: str, array: np.ndarray) -> None:
        """Store ``array`` for ``utt_id`` (temporary file + rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        atomic_write_bytes(self.path(utt_id), buffer.getvalue())


def _saved(utt: Any, vocabulary: Vocabulary) -> np.ndarray:
    """The log-probs of an utterance that carries its own logits (an array or a file)."""
    from ..inputs import prepare_log_probs
    from ..logits_io import load_logits

    logits = utt.logits
    if isinstance(logits, (str, Path)):
        logits = load_logits(logits, vocab_size=len(vocabulary))
    return prepare_log_probs(logits, None, vocab_size=len(vocabulary)).utterance(0)


def iter_log_probs(
    utterances: Sequence[Any],
    model: Any,
    vocabulary: Vocabulary,
    batch_size: int,
    cache: LogitsCache | None = None,
) -> Iterator[tuple[list[Any], list[np.ndarray]]]:
    """``(utterances, log-probs [T, V] each)`` batches covering ``utterances`` once.

    First the utterances with their own logits and those in ``cache`` (dataset order),
    then audio through the model's ``iter_logits``, which batches utterances of similar
    length (least padding, which matters for models that take no attention mask); the
    model's log-probs are stored in ``cache``.
    """
    def own(u: Any) -> bool:
        return getattr(u, "logits", None) is not None

    ready = [u for u in utterances if own(u) or (cache is not None and cache.path(u.id).exists())]
    ready_ids = {u.id for u in ready}
    audio = [u for u in utterances if u.id not in ready_ids]
    for start in range(0, len(ready), batch_size):
        chunk, arrays = [], []
        for u in ready[start : start + batch_size]:
            array = _saved(u, vocabulary) if own(u) else cache.load(u.id)  # type: ignore[union-attr]
            if array is None:  # a cache file that cannot be read: compute it again
                audio.append(u)
                continue
            chunk.append(u)
            arrays.append(array)
        if chunk:
            yield chunk, arrays
    if audio:
        yield from _model_batches(audio, model, batch_size, cache)


def _model_batches(
    audio: Sequence[Any], model: Any, batch_size: int, cache: LogitsCache | None
) -> Iterator[tuple[list[Any], list[np.ndarray]]]:
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
            array = np.ascontiguousarray(log_probs[j, : int(emissions.lengths[j])].to("cpu").numpy())
            if cache is not None:
                cache.save(audio[i].id, array)
            chunk.append(audio[i])
            arrays.append(array)
        yield chunk, arrays


def utterance_log_probs(
    utterances: Sequence[Any], model: Any, vocabulary: Vocabulary, *, batch_size: int = 8
) -> list[np.ndarray]:
    """Log-probs ``[T, V]`` of each utterance, in order: its saved logits, or the acoustic model's.

    Example:
        >>> from ctcdecode_kit.datasets import load_dataset
        >>> data = load_dataset("../shared/data/wav2vec2-logits")
        >>> utterance_log_probs(data, None, data.vocabulary)[0].shape
        (422, 32)
    """
    by_id: dict[str, np.ndarray] = {}
    for chunk, arrays in iter_log_probs(list(utterances), model, vocabulary, batch_size):
        by_id.update(zip((u.id for u in chunk), arrays))
    return [by_id[u.id] for u in utterances]
