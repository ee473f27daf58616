"""One load per process: the process-wide cache of language models loaded from files.

Every place in the kit that turns a *path* into a language model goes through
:func:`load_lm`: the ``pyctcdecode``, ``native`` and ``rescore`` backends, ``compare``,
``tune``, ``decode``, ``transcribe`` and the pyctcdecode worker processes. A file is then
parsed (and an ARPA file checked) once per process, however many decoders use it: the 12
trials of ``tune`` share one load, and in ``compare`` the ``pyctcdecode+lm`` and
``rescore`` decoders share one :class:`~ctcdecode_kit.lm.KenLM` object while ``native+lm``
reads the ARPA once into its :class:`~ctcdecode_kit.lm.ArpaLM`.

This is the one deliberate piece of global state in the kit. What is cached, and the key:

* ``kind``: ``"kenlm"`` (:class:`~ctcdecode_kit.lm.KenLM`: ARPA, compressed ARPA or KenLM
  binary) or ``"native"`` (:class:`~ctcdecode_kit.lm.ArpaLM`: ARPA or ``.ckbin`` image);
* the file: its resolved path (symbolic links followed, so two links to one file share an
  entry), device and inode, size, modification time in nanoseconds, and a digest of its
  first and last 64 KiB (a file rewritten within one tick of the file system's clock is
  still seen as changed). A file that changed on disk is loaded again, and the entry of
  its old version is dropped from the cache;
* every option that changes the loaded object (KenLM's ``case`` and ``unigrams``; any
  keyword given to :class:`~ctcdecode_kit.lm.ArpaLM`). KenLM's ``validate`` is not part of
  the key: a model loaded without the full ARPA check is checked once when a later caller
  asks for it, and a checked model serves callers that skip the check.

Cached models are shared, so they are read-only after construction: KenLM and ArpaLM
objects are only queried (their C++ models are safe to query from many threads). An LM
object you construct yourself (``KenLM(path)``, ``ArpaLM(path)``) is yours and is not
cached; pass the object to several decoders to share it. The cache holds its models until
:func:`clear_cache` (or the end of the process): call it to free a big model's memory once
no decoder uses it. Loads are counted: :func:`load_count` (real loads since the process
started; lookups that found the model are :func:`cache_info`'s ``hits``).

Thread safety: one lock guards the table and each entry has its own lock, so two threads
asking for the same file load it once (the second waits for the first), while different
files load in parallel. A load that fails is not cached; the next call tries again.

Example:
    >>> from ctcdecode_kit.lm import clear_cache, load_count, load_lm
    >>> clear_cache()
    >>> before = load_count()
    >>> lm = load_lm("../shared/data/kenlm/test.arpa", "native")
    >>> load_lm("../shared/data/kenlm/test.arpa", "native") is lm
    True
    >>> load_count() - before
    1
    >>> clear_cache()
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ctcdecode_kit.errors import InputError

__all__ = [
    "KINDS", "LMCacheInfo", "cache_info", "cached_paths", "clear_cache", "derived", "file_identity", "load_count",
    "load_lm",
]

T = TypeVar("T")

KINDS = ("kenlm", "native")
"""What :func:`load_lm` can load: ``"kenlm"`` (:class:`~ctcdecode_kit.lm.KenLM`) or ``"native"`` (:class:`~ctcdecode_kit.lm.ArpaLM`)."""

_SAMPLE = 64 * 1024  # bytes hashed at each end of the file


@dataclass(frozen=True)
class LMCacheInfo:
    """What the LM cache holds and has done since the process started.

    Attributes:
        loads: real loads (files parsed), by every kind together.
        hits: lookups answered from the cache.
        entries: models held now.
        loads_by_kind: ``{"kenlm": n, "native": m}``.
    """

    loads: int
    hits: int
    entries: int
    loads_by_kind: dict[str, int]


class _Slot:
    """One cached model; its lock makes a second caller wait for the first one's load."""

    __slots__ = ("lock", "validated", "value")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: Any = None
        self.validated = False


_lock = threading.Lock()
_slots: dict[tuple[Hashable, ...], _Slot] = {}
_loads: dict[str, int] = dict.fromkeys(KINDS, 0)
_hits = 0
_derived: dict[int, tuple[weakref.ref[Any], dict[Hashable, Any]]] = {}


def _after_fork_in_child() -> None:
    """A child forked while another thread held a lock would wait forever: give it fresh locks."""
    global _lock
    _lock = threading.Lock()
    for slot in _slots.values():
        slot.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def file_identity(path: str | Path) -> tuple[str, int, int, int, int, str]:
    """What identifies a file's content without reading it all: (resolved path, device, inode,
    size, mtime_ns, digest of its first and last 64 KiB). Raises OSError for a missing file.

    Example:
        >>> import tempfile
        >>> f = Path(tempfile.mkdtemp()) / "lm.arpa"
        >>> _ = f.write_text("one")
        >>> before = file_identity(f)
        >>> _ = f.write_text("two")
        >>> before == file_identity(f), before[3] == file_identity(f)[3]
        (False, True)
    """
    resolved = Path(path).expanduser().resolve()
    stat = resolved.stat()
    h = hashlib.blake2b(digest_size=12)
    with open(resolved, "rb") as f:
        h.update(f.read(_SAMPLE))
        if stat.st_size > 2 * _SAMPLE:
            f.seek(stat.st_size - _SAMPLE)
            h.update(f.read(_SAMPLE))
    return (str(resolved), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, h.hexdigest())


# ---------------------------------------------------------------- loaders
def _load_kenlm(path: Path, options: dict[str, Any], validate: bool) -> Any:
    from .kenlm_model import KenLM

    return KenLM(path, validate=validate, **options)


def _load_native(path: Path, options: dict[str, Any], validate: bool) -> Any:
    from .ngram import ArpaLM

    return ArpaLM(path, **options)


def _revalidate_kenlm(path: Path) -> None:
    """The full ARPA check that a load with ``validate=False`` skipped (nothing to do for a binary)."""
    from .arpa import inspect_arpa, is_kenlm_binary

    if not is_kenlm_binary(path):
        inspect_arpa(path, validate=True)


_LOADERS: dict[str, Callable[[Path, dict[str, Any], bool], Any]] = {"kenlm": _load_kenlm, "native": _load_native}


def _option_key(kind: str, options: dict[str, Any]) -> tuple[Hashable, ...]:
    """The options as a hashable part of the key (a word list given as a file is keyed by that file)."""
    items = []
    for name in sorted(options):
        value = options[name]
        if kind == "kenlm" and name == "unigrams" and value is not None:
            if isinstance(value, (str, Path)):
                try:
                    value = ("file", file_identity(value))
                except OSError:
                    value = ("file", str(value))  # missing: KenLM says so
            else:
                value = ("words", *value)
        try:
            hash(value)
        except TypeError:
            raise InputError(f"LM option {name}={value!r} must be hashable to be cached") from None
        items.append((name, value))
    return tuple(items)


# ---------------------------------------------------------------- the cache
def load_lm(path: str | Path, kind: str = "kenlm", **options: Any) -> Any:
    """The language model in ``path``, loaded once per process (see the module docs).

    Args:
        path: the model file.
        kind: ``"kenlm"`` (a :class:`~ctcdecode_kit.lm.KenLM`: ARPA, compressed ARPA or
            KenLM binary; needs the ``kenlm`` package) or ``"native"`` (a
            :class:`~ctcdecode_kit.lm.ArpaLM`: ARPA or ``.ckbin`` image).
        **options: passed to the class (KenLM: ``case``, ``unigrams``, ``validate``).

    A path that is not a readable file is handed to the class uncached, so its error
    (missing file, folder) is the one the class raises.

    Example:
        >>> lm = load_lm("../shared/data/kenlm/test.arpa", "kenlm", case="lower")
        >>> lm is load_lm("../shared/data/kenlm/test.arpa", "kenlm", case="lower")
        True
    """
    global _hits
    if kind not in _LOADERS:
        raise InputError(f"LM kind must be one of {', '.join(KINDS)}, got {kind!r}")
    loader = _LOADERS[kind]
    given = Path(path).expanduser()
    source = given.absolute()
    validate = bool(options.pop("validate", True)) if kind == "kenlm" else True
    if kind == "kenlm" and options.get("unigrams") is not None and not isinstance(options["unigrams"], (str, Path)):
        options["unigrams"] = tuple(options["unigrams"])
    try:
        if not source.is_file():
            raise FileNotFoundError(source)
        identity = file_identity(source)
    except OSError:
        return loader(given, options, validate)  # the class explains what is wrong with the path
    key = (kind, identity, _option_key(kind, options))
    while True:
        with _lock:
            slot = _slots.get(key)
            if slot is None:
                slot = _slots[key] = _Slot()
                _drop_old_versions(kind, identity)
        with slot.lock:
            if slot.value is not None:
                if validate and not slot.validated:
                    _revalidate_kenlm(source)
                    slot.validated = True
                with _lock:
                    _hits += 1
                return slot.value
            with _lock:
                if _slots.get(key) is not slot:
                    continue  # the load this caller waited for failed (or the cache was cleared): start over
            try:
                value = loader(source, options, validate)
            except BaseException:
                with _lock:
                    if _slots.get(key) is slot:
                        del _slots[key]
                raise
            slot.value, slot.validated = value, validate
            with _lock:
                _loads[kind] += 1
                for alias in _aliases(kind, identity, options, value):
                    _slots.setdefault(alias, slot)
            return value


def _aliases(kind: str, identity: tuple[Any, ...], options: dict[str, Any], value: Any) -> list[tuple[Hashable, ...]]:
    """Other keys that ask for the same KenLM: its resolved case, with its own unigram list.

    ``case="auto"`` resolves to the model's case, so a later ``case="lower"`` is the same
    model; and what :class:`~ctcdecode_kit.lm.loading.KenLMSource` sends to a worker (the
    resolved case and unigram list) finds the model a forked worker inherited.
    """
    if kind != "kenlm" or set(options) - {"case", "unigrams"}:
        return []
    case, unigrams = getattr(value, "case", None), getattr(value, "unigrams", None)
    resolved = [{**options, "case": case}]
    if options.get("unigrams") is None and unigrams is not None:
        resolved.append({"case": case, "unigrams": tuple(unigrams)})
    return [(kind, identity, _option_key(kind, r)) for r in resolved]


def _drop_old_versions(kind: str, identity: tuple[Any, ...]) -> None:
    """Forget the entries of an older version of the same file (called with ``_lock`` held)."""
    for key in [k for k in _slots if k[0] == kind and k[1][0] == identity[0] and k[1] != identity]:
        del _slots[key]


def clear_cache() -> None:
    """Empty the process-wide LM cache (the next :func:`load_lm` of each file loads it again).

    Decoders built before keep their models; the memory of a model is freed once no
    decoder holds it. The counters of :func:`cache_info` are not reset.

    Example:
        >>> from ctcdecode_kit.lm import clear_cache
        >>> clear_cache()
        >>> cache_info().entries
        0
    """
    with _lock:
        _slots.clear()
        _derived.clear()


def derived(lm: Any, key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, computed once per (LM object, ``key``) for as long as ``lm`` lives.

    For data a decoder derives from a loaded LM and that does not change with the
    decoder's weights (the prefix index over its unigrams, how many of them a vocabulary
    spells): ``tune``'s derived decoders then reuse it instead of rebuilding it per trial.
    The entry goes when ``lm`` is garbage-collected or at :func:`clear_cache`; an LM that
    takes no weak reference gets ``make()`` every time.

    Example:
        >>> from ctcdecode_kit.lm import LanguageModelBase
        >>> class Tiny(LanguageModelBase):
        ...     order = 1
        ...     def begin(self): return ()
        ...     def score(self, state, word): return -1.0, ()
        ...     def end(self, state): return 0.0
        >>> lm, made = Tiny(), []
        >>> derived(lm, "size", lambda: made.append(1) or 42), derived(lm, "size", lambda: made.append(1) or 42)
        (42, 42)
        >>> len(made)
        1
    """
    ident = id(lm)
    with _lock:
        entry = _derived.get(ident)
        if entry is not None and entry[0]() is lm and key in entry[1]:
            return entry[1][key]  # type: ignore[no-any-return]
    value = make()
    try:
        ref = weakref.ref(lm, lambda dead: _forget(ident, dead))
    except TypeError:  # no weak references (e.g. __slots__ without __weakref__): nothing kept
        return value
    with _lock:
        entry = _derived.get(ident)
        if entry is None or entry[0]() is not lm:
            entry = _derived[ident] = (ref, {})
        return entry[1].setdefault(key, value)  # type: ignore[no-any-return]


def _forget(ident: int, dead: weakref.ref[Any]) -> None:
    """Drop a collected LM's derived data (no lock: a callback may run while this thread holds it)."""
    entry = _derived.get(ident)
    if entry is not None and entry[0] is dead:
        _derived.pop(ident, None)


def load_count(kind: str | None = None) -> int:
    """Real loads since the process started (of one ``kind``, or of all): the counter tests use.

    Example:
        >>> before = load_count("native")
        >>> load_count("native") - before
        0
    """
    with _lock:
        if kind is None:
            return sum(_loads.values())
        if kind not in _loads:
            raise InputError(f"LM kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return _loads[kind]


def cache_info() -> LMCacheInfo:
    """Counters and size of the LM cache.

    Example:
        >>> sorted(cache_info().loads_by_kind)
        ['kenlm', 'native']
    """
    with _lock:
        models = {id(slot) for slot in _slots.values() if slot.value is not None}
        return LMCacheInfo(sum(_loads.values()), _hits, len(models), dict(_loads))


def cached_paths() -> list[str]:
    """The files whose models the cache holds now (resolved paths, sorted; for diagnostics).

    Example:
        >>> isinstance(cached_paths(), list)
        True
    """
    with _lock:
        return sorted({key[1][0] for key, slot in _slots.items() if slot.value is not None})

