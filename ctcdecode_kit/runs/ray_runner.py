"""The Ray runner: the same plan, decoders and sink as the one-process run, on a Ray cluster.

Install with ``pip install 'ctcdecode-kit[ray]'`` (Ray Data, ``ray[data]`` >= 2.60). Nothing
else in the kit imports Ray: only ``compare(..., ray=ADDRESS)``, ``transcribe_dataset(...,
ray=ADDRESS)``, ``tune(..., ray=ADDRESS)`` and the CLI's ``--ray ADDRESS`` come here.

The pipeline (Ray Data, streaming):

1. the items still to do (audio paths, saved-logits files, in-memory arrays), in batches
   formed on the driver exactly as one process forms them (saved or cached logits first,
   then audio longest first), one Ray Data block per batch (:func:`ray.data.from_items`);
2. log-probs: an actor pool (``num_gpus=1`` per actor when the cluster has GPUs, else CPU
   actors with fractional CPUs and the driver's number of torch threads, so that CPU logits
   match the one-process run's bit for bit) reads saved logits or the run's logits cache,
   and runs the acoustic model on audio in those length-sorted batches (the same
   :func:`~ctcdecode_kit.runs.logits_cache.iter_log_probs` as one process), storing new
   log-probs in the run's cache (``<output>/logits``, which must be on shared storage);
3. one CPU actor pool per decoder; each actor builds its decoder once (its LM loaded
   once per actor process through ``lm/cache.py``) and decodes with the engine's
   :func:`~ctcdecode_kit.runs.engine.decode_batch`, so every record carries its
   per-utterance alignment counts;
4. the driver takes finished blocks as they come and hands their records to the run's
   :class:`~ctcdecode_kit.runs.engine.Sink`, which journals them (fsynced) without
   duplicates; corpus WER / CER are sums of the counts.

Addresses mean what they mean to Ray: ``auto`` (a running cluster: ``ray start --head``
or ``RAY_ADDRESS``; an error if there is none), ``local`` (start an instance in this
process), ``ray://host:port`` (Ray Client) or ``host:port`` (the cluster's GCS). When Ray is
already initialised in this process (a notebook, a test) that instance is used.

Data, model, LM and output paths must be reachable under the same path from every node
(shared storage). A worker that cannot open one fails with one line naming the file and
the node.

Example:
    >>> parse_address("local"), parse_address("ray://head:10001"), parse_address("10.0.0.5:6379")
    ('local', 'ray://head:10001', '10.0.0.5:6379')
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CTCDecodeKitError, InputError, MissingDependencyError, MissingFileError
from ..vocabulary import Vocabulary
from .engine import RunPlan, Sink, audio_path, build_decoders, close_decoders, decode_batch
from .logits_cache import LogitsCache, iter_log_probs
from .specs import DecoderSpec, SharedSettings, decoder_options

__all__ = ["MIN_RAY_VERSION", "RayOptions", "RayRunner", "connect", "parse_address", "run_tasks"]

MIN_RAY_VERSION = "2.60"
"""The Ray this runner is tested with (2.60; older 2.x releases with the same Ray Data API may work, unchecked)."""

INSTALL = "pip install 'ctcdecode-kit[ray]'"

_ADDRESS = re.compile(r"(ray://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5}")


@dataclass(frozen=True)
class RayOptions:
    """How big the actor pools are and what each actor asks for.

    Attributes:
        decoder_actors: actors per decoder (each holds its own decoder and LM).
        decoder_cpus: CPUs each decoder actor asks for (fractional: a 2-core machine runs
            the whole pipeline).
        acoustic_actors: acoustic-model actors (None: one per GPU of the cluster, else 1).
        acoustic_cpus: CPUs each acoustic actor asks for when it runs on CPU.
        use_gpus: run the acoustic model on GPUs when the cluster has them.
        init: keyword arguments for ``ray.init`` when this process starts Ray
            (``--ray local``), e.g. ``num_cpus`` or ``object_store_memory``.
    """

    decoder_actors: int = 1
    decoder_cpus: float = 0.25
    acoustic_actors: int | None = None
    acoustic_cpus: float = 0.5
    use_gpus: bool = True
    init: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.decoder_actors < 1 or (self.acoustic_actors is not None and self.acoustic_actors < 1):
            raise InputError(f"actor counts must be >= 1, got {self}")
        if not (self.decoder_cpus > 0 and self.acoustic_cpus > 0):
            raise InputError(f"CPUs per actor must be > 0, got {self}")


def parse_address(address: str) -> str:
    """Check a ``--ray`` address: ``auto``, ``local``, ``ray://host:port`` or ``host:port``."""
    text = str(address).strip()
    if text in ("auto", "local") or _ADDRESS.fullmatch(text):
        return text
    raise InputError(
        f"--ray {address!r} is not a Ray address; expected auto (a running cluster), local (start one here), "
        f"ray://HOST:PORT or HOST:PORT"
    )


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(f"--ray needs Ray Data, which is not installed; {INSTALL}") from None
    if not isinstance(getattr(ray, "__version__", None), str):  # a folder named ray, not the package
        raise MissingDependencyError(f"--ray needs Ray Data, which is not installed; {INSTALL}")
    have = tuple(int(p) for p in re.findall(r"\d+", ray.__version__)[:2])
    need = tuple(int(p) for p in MIN_RAY_VERSION.split("."))
    if have < need:
        raise MissingDependencyError(f"--ray needs Ray >= {MIN_RAY_VERSION}, found {ray.__version__}; {INSTALL}")
    return ray


def connect(address: str, init: dict[str, Any] | None = None) -> Any:
    """Connect to (or start) Ray at ``address``; the ``ray`` module. Reuses an initialised Ray.

    Raises:
        InputError: ``auto`` without a running cluster, or an address nothing answers at.
        MissingDependencyError: Ray is not installed (or too old).
    """
    address = parse_address(address)
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "configure_logging": True}
    try:
        if address == "local":
            ray.init(address="local", include_dashboard=False, **{**quiet, **(init or {})})
        else:
            if address == "auto" and not os.environ.get("RAY_ADDRESS") and not _local_cluster_running():
                raise ConnectionError("no cluster")
            ray.init(address=address, **quiet)
    except (ConnectionError, TimeoutError, RuntimeError) as exc:
        if address == "auto":
            raise InputError(
                "--ray auto found no running Ray cluster; start one with `ray start --head` (or set RAY_ADDRESS), "
                "or use --ray local to start Ray in this process"
            ) from None
        raise InputError(f"--ray {address}: cannot connect to a Ray cluster there ({' '.join(str(exc).split())[:200]})") from None
    return ray


def _local_cluster_running() -> bool:
    """Whether ``ray start`` left a cluster address on this machine (what ``ray.init("auto")`` reads)."""
    return Path("/tmp/ray/ray_current_cluster").is_file()


def _kit_error(exc: BaseException) -> BaseException | None:
    """The kit's own error (or an OS error) that a Ray exception wraps, if any."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        cause = getattr(current, "cause", None)
        if isinstance(current, (CTCDecodeKitError, OSError)) and not _is_ray_error(current):
            return current
        todo += [cause, current.__cause__, current.__context__]
    return None


def _is_ray_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("ray.")


def _node() -> str:
    return socket.gethostname()


def _check_reachable(path: Any, what: str) -> None:
    if path is not None and not Path(path).exists():
        raise MissingFileError(
            f"{what} {str(path)!r} cannot be opened on Ray node {_node()!r}; data, model, LM and --output paths "
            f"must be on storage that every node reaches under the same path"
        )


# ------------------------------------------------------------------ the stages (run on workers)
class _CacheFiles(LogitsCache):
    """The run's logits cache seen by a worker: the file of each id is given by the driver."""

    def __init__(self, paths: dict[str, str]) -> None:
        folder = Path(next(iter(paths.values()))).parent if paths else Path(".")
        super().__init__(folder, ())
        self._paths = {k: Path(v) for k, v in paths.items()}

    def path(self, utt_id: str) -> Path:
        return self._paths[utt_id]


class LogProbsStage:
    """Actor: batches of items -> log-probs (saved logits, the run's cache, or the acoustic model).

    Each input row is one batch of utterances, formed on the driver exactly as the
    one-process run forms them, so the model sees the same padding and gives the same logits.
    """

    def __init__(self, model: dict[str, Any] | None, vocabulary: Vocabulary, batch_size: int) -> None:
        self.model_args, self.vocabulary, self.batch_size = model, vocabulary, batch_size
        self.model: Any = None

    def _model(self) -> Any:
        if self.model is None and self.model_args is not None:
            from ..acoustic import AcousticModel

            name = self.model_args["name"]
            if Path(name).is_absolute() or name.startswith("."):
                _check_reachable(name, "model folder")
            if self.model_args.get("threads"):  # the driver's intra-op threads: CPU logits then match bit for bit
                import torch

                torch.set_num_threads(self.model_args["threads"])
            self.model = AcousticModel.from_pretrained(name, device=self.model_args["device"],
                                                       dtype=self.model_args["dtype"])
        return self.model

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        out: dict[str, list[Any]] = {k: [] for k in ("ids", "references", "audio", "todo", "records", "log_probs",
                                                     "frames", "acoustic_seconds", "error")}
        for blob, todo, cache_files in zip(batch["utts"], batch["todo"], batch["cache"]):
            utts = pickle.loads(blob)
            try:
                self._row(out, utts, todo, cache_files)
            except (CTCDecodeKitError, OSError) as exc:  # handed to the driver as data: Ray's wrappers drop the cause
                out["ids"].append(json.dumps([u.id for u in utts]))
                for key, empty in (("references", "[]"), ("audio", "[]"), ("todo", todo), ("records", "[]"), ("log_probs", b""),
                                   ("frames", "[]"), ("acoustic_seconds", 0.0)):
                    out[key].append(empty)
                out["error"].append(_error_blob(exc))
        return {k: _objects(v) if k != "acoustic_seconds" else np.array(v, dtype=np.float64) for k, v in out.items()}

    def _row(self, out: dict[str, list[Any]], utts: list[Any], todo: str, cache_files: str) -> None:
        """Log-probs of one batch, appended to ``out``."""
        caches = {u.id: c for u, c in zip(utts, json.loads(cache_files)) if c}
        for u in utts:
            _check_reachable(getattr(u, "path", None), "file")
        needs_model = any(getattr(u, "logits", None) is None
                          and not (u.id in caches and Path(caches[u.id]).exists()) for u in utts)
        model = self._model() if needs_model else None
        t0 = time.perf_counter()
        arrays: dict[str, np.ndarray] = {}
        for chunk, computed in iter_log_probs(utts, model, self.vocabulary, len(utts),
                                              _CacheFiles(caches) if caches else None):
            arrays.update((u.id, a) for u, a in zip(chunk, computed))
        ordered = [np.ascontiguousarray(arrays[u.id], dtype=np.float32) for u in utts]
        out["ids"].append(json.dumps([u.id for u in utts]))
        out["references"].append(json.dumps([u.reference for u in utts]))
        out["audio"].append(json.dumps([audio_path(u) for u in utts]))  # for the report's audio player
        out["todo"].append(todo)
        out["records"].append("[]")
        out["log_probs"].append(b"".join(a.tobytes() for a in ordered))
        out["frames"].append(json.dumps([a.shape[0] for a in ordered]))
        out["acoustic_seconds"].append(time.perf_counter() - t0 if needs_model else 0.0)
        out["error"].append(b"")


class DecodeStage:
    """Actor: one decoder, built once per actor (its LM loaded once), appending its records."""

    def __init__(
        self, spec: DecoderSpec, vocabulary: Vocabulary, shared: SharedSettings, last: bool, nbest: int | None = None
    ) -> None:
        self.vocab_size, self.last, self.nbest = len(vocabulary), last, nbest
        self.decoders: dict[str, Any] = {}
        self.error = b""
        try:
            lm = shared.lm if spec.use_lm or spec.backend == "rescore" else None
            if isinstance(lm, (str, Path)):
                _check_reachable(lm, "language model")
            self.decoders = build_decoders([spec], vocabulary, shared)
        except (CTCDecodeKitError, OSError) as exc:  # reported with the first batch, as one line
            self.error = _error_blob(exc)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        all_records = []
        errors = list(batch["error"])
        for row, (ids_text, refs_text, audio_text, todo_text, records_text, blob, frames_text) in enumerate(zip(
            batch["ids"], batch["references"], batch["audio"], batch["todo"], batch["records"], batch["log_probs"],
            batch["frames"],
        )):
            if errors[row] or self.error:
                errors[row] = errors[row] or self.error
                all_records.append(records_text)
                continue
            frames = json.loads(frames_text)
            flat = np.frombuffer(blob, dtype=np.float32).reshape(-1, self.vocab_size)
            starts = np.cumsum([0] + frames)
            arrays = [flat[starts[i] : starts[i + 1]] for i in range(len(frames))]
            records = json.loads(records_text)
            for _label, new in decode_batch(self.decoders, json.loads(ids_text), json.loads(refs_text), arrays,
                                            json.loads(todo_text), self.vocab_size, nbest=self.nbest,
                                            audio=json.loads(audio_text)):
                records.extend(new)
            all_records.append(json.dumps(records, ensure_ascii=False))
        out = {k: v for k, v in batch.items() if not (self.last and k == "log_probs")}
        out["records"] = _objects(all_records)
        out["error"] = _objects(errors)
        return out

    def __del__(self) -> None:
        close_decoders(getattr(self, "decoders", {}))


def _error_blob(exc: BaseException) -> bytes:
    """A worker's error as bytes for the driver (an OS error becomes the kit's one-line error naming the file)."""
    if isinstance(exc, OSError) and not isinstance(exc, CTCDecodeKitError):
        where = f" {str(exc.filename)!r}" if getattr(exc, "filename", None) else ""
        exc = MissingFileError(f"cannot open{where} on Ray node {_node()!r}: {exc.strerror or exc}")
    return pickle.dumps(exc)


def _objects(values: Iterable[Any]) -> np.ndarray:
    """A 1-D object array (numpy would pad bytes to a fixed width and drop trailing NULs)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# ------------------------------------------------------------------ the driver
class RayRunner:
    """Runs a :class:`~ctcdecode_kit.runs.engine.RunPlan` on Ray (see the module docs).

    Args:
        address: ``auto``, ``local``, ``ray://host:port`` or ``host:port``.
        options: pool sizes and resources (:class:`RayOptions`).
    """

    def __init__(self, address: str, options: RayOptions | None = None) -> None:
        self.address = parse_address(address)
        self.options = options or RayOptions()
        self.ray: Any = None
        self.device = "cpu"

    def prepare(self, plan: RunPlan) -> RunPlan:
        """Check the plan for Ray and connect; the plan with the acoustic actors' device kind.

        Every decoder spec is checked on the driver (no LM is loaded here: the actors load
        them). The acoustic model runs on GPUs when the cluster has some; the device kind
        is part of the model's fingerprint (CPU and GPU logits differ slightly), so a run
        resumes on the other runner when both use the same kind of device.
        """
        for spec in plan.specs:
            decoder_options(spec, plan.shared, strict=False)
        if plan.shared.lm is not None and not isinstance(plan.shared.lm, (str, Path)):
            raise InputError("with --ray the language model must be a file path (every node loads it); got an object")
        self.ray = connect(self.address, self.options.init)
        gpus = float(self.ray.cluster_resources().get("GPU", 0)) if self.options.use_gpus else 0.0
        self.device = "cuda" if gpus >= 1 else "cpu"
        model_print = plan.fingerprint.get("model")
        if isinstance(model_print, dict) and model_print.get("device") != self.device:
            plan = replace(plan, fingerprint={**plan.fingerprint, "model": {**model_print, "device": self.device}})
        return plan

    def _rows(self, plan: RunPlan, sink: Sink, cache: LogitsCache | None) -> list[dict[str, Any]]:
        """One row per batch, formed as the one-process run forms them: first the items with
        their own logits or in the cache (dataset order), then audio, longest first."""
        from ..audio import audio_info

        ready: list[Any] = []
        audio: list[tuple[float, Any]] = []
        for utt in plan.utterances:
            if not sink.todo(utt.id):
                continue
            path = getattr(utt, "path", None)
            if getattr(utt, "logits", None) is not None:
                if path is not None and Path(path).suffix in (".npy", ".pt", ".pth"):
                    utt = replace(utt, logits=str(path))  # the worker reads the file (shared storage)
                ready.append(utt)
            elif cache is not None and cache.path(utt.id).exists():
                ready.append(utt)
            elif getattr(utt, "audio", None) is not None:
                audio.append((float(len(utt.audio)) / float(utt.sampling_rate or 16000), utt))
            else:
                audio.append((audio_info(path).duration, utt))  # fails here, naming the file, if unreadable
        audio.sort(key=lambda pair: -pair[0])
        rows = []
        size = plan.batch_size
        for group in (ready, [utt for _, utt in audio]):
            for start in range(0, len(group), size):
                chunk = group[start : start + size]
                rows.append({
                    "utts": pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL),
                    "todo": json.dumps([sink.todo(u.id) for u in chunk]),
                    "cache": json.dumps([str(cache.path(u.id).absolute()) if cache is not None else "" for u in chunk]),
                    "n": len(chunk),
                })
        return rows

    def feed(self, plan: RunPlan, sink: Sink, cache: LogitsCache | None) -> float:
        """Run the pipeline over the unfinished items; records go to ``sink``. Acoustic seconds."""
        if self.ray is None:
            plan = self.prepare(plan)
        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        if not hasattr(context, "log_internal_stack_trace"):  # older Ray; 2.60 keeps them out of stdout
            context.log_internal_stack_trace_to_stdout = False
        for name in ("ray.data", "ray"):
            logging.getLogger(name).setLevel(logging.ERROR)
        rows = self._rows(plan, sink, cache)
        done = len(plan.utterances) - sum(r["n"] for r in rows)
        sink.report("acoustic", done)
        if not rows:
            return 0.0
        ds = self._pipeline(plan, rows)
        acoustic_seconds = 0.0
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                failed = next((blob for blob in batch["error"] if blob), None)
                if failed is not None:
                    raise pickle.loads(failed)
                done += sum(len(json.loads(ids)) for ids in batch["ids"])
                acoustic_seconds += float(np.sum(batch["acoustic_seconds"]))
                sink.report("acoustic", done)
                sink.accept([record for text in batch["records"] for record in json.loads(text)])
        except Exception as exc:  # noqa: BLE001 - Ray wraps worker errors in its own types: unwrap ours
            found = _kit_error(exc)
            if found is None:
                raise
            raise found from None
        return acoustic_seconds

    def _pipeline(self, plan: RunPlan, rows: list[dict[str, Any]]) -> Any:
        import ray.data

        opts = self.options
        needs_model = plan.model is not None and any(
            getattr(u, "logits", None) is None for r in rows for u in pickle.loads(r["utts"]))
        model = None
        if needs_model:
            threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules and self.device == "cpu" else None
            model = {"name": str(plan.model.name), "device": self.device, "dtype": plan.model.dtype, "threads": threads}
        gpu = needs_model and self.device == "cuda"
        gpus = int(self.ray.cluster_resources().get("GPU", 0)) if gpu else 0
        acoustic_actors = opts.acoustic_actors or (max(gpus, 1) if gpu else 1)
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))  # a block per batch: journaled as it finishes
        ds = ds.map_batches(
            LogProbsStage,
            fn_constructor_kwargs={"model": model, "vocabulary": plan.vocabulary, "batch_size": plan.batch_size},
            batch_size=1,
            batch_format="numpy",
            concurrency=acoustic_actors,
            **({"num_gpus": 1} if gpu else {"num_cpus": opts.acoustic_cpus}),
        )
        for i, spec in enumerate(plan.specs):
            ds = ds.map_batches(
                DecodeStage,
                fn_constructor_kwargs={"spec": spec, "vocabulary": plan.vocabulary, "shared": plan.shared,
                                       "last": i == len(plan.specs) - 1, "nbest": plan.settings.get("nbest")},
                batch_size=1,
                batch_format="numpy",
                concurrency=opts.decoder_actors,
                num_cpus=opts.decoder_cpus,
            )
        return ds


def run_tasks(address: str, func: Callable[..., Any], calls: Sequence[tuple[Any, ...]], *,
              shared: Any = None, num_cpus: float = 0.5, init: dict[str, Any] | None = None) -> list[Any]:
    """``[func(shared, *args) for args in calls]`` as Ray tasks (``shared`` put in the object store once).

    Results come back in call order; a task's kit error is raised as itself (one line).

    Example:
        >>> run_tasks("local", pow, [(2,), (3,)], shared=10)   # doctest: +SKIP
        [100, 1000]
    """
    ray = connect(address, init)
    remote = ray.remote(num_cpus=num_cpus)(func)
    ref = ray.put(shared)
    try:
        return ray.get([remote.remote(ref, *args) for args in calls])
    except Exception as exc:  # noqa: BLE001 - unwrap the kit's error from Ray's wrapper
        found = _kit_error(exc)
        if found is None:
            raise
        raise found from None
