"""The native n-gram model: an ARPA file read by the kit's own C++ code (scores equal KenLM's).

:class:`ArpaLM` is what the ``native`` decoder fuses without Python callbacks; it also
serves the :class:`~ctcdecode_kit.lm.LanguageModel` protocol, so it works for rescoring
and in the ``pyctcdecode`` backend too.

Reading an ARPA file also writes its binary form, ``lm.arpa.ckbin``, beside it (or under
:func:`ctcdecode_kit.cache.user_cache_dir` when that folder is read-only); the next
``ArpaLM("lm.arpa")`` maps that file instead of parsing the text, until the ARPA file's
size or modification time changes. The binary is used in place from the mapping: opening
it costs about a millisecond, and processes that map the same file share its memory.
KenLM's ``build_binary`` files of the ``probing`` and ``trie`` types are mapped and scored
natively the same way (KenLM's own layout, read in place, quantised or pointer-compressed
tries included; only ``rest_probing`` files still need the ``kenlm`` package).

Example:
    >>> from ctcdecode_kit.lm import ArpaLM
    >>> lm = ArpaLM("../shared/data/kenlm/test.arpa")                          # doctest: +SKIP
    >>> round(lm.log10_scores(["looking"], eos=False)[0], 6)                   # doctest: +SKIP
    -0.484652
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ctcdecode_kit.cache import derived_path
from ctcdecode_kit.errors import FileFormatError, LanguageModelError, MissingFileError, require_native

from .arpa import KENLM_BINARY_MAGIC, decompressor
from .kenlm_model import log10_to_ln

_native = require_native("the native n-gram LM (ArpaLM)")

__all__ = ["ArpaLM", "reads_natively"]

BINARY_SUFFIX = ".ckbin"
# First bytes of files the native reader treats as binary (its own, an older image, KenLM's).
_BINARY_HEADS = (b"CKITNGRM", b"CKITLM0", KENLM_BINARY_MAGIC)


# KenLM's binary header (format version 5): the full magic, then at byte 96 the model type
# (int32: 0 probing, 1 rest_probing, 2 trie, 3 quantised trie, 4 pointer-compressed trie,
# 5 both); all but rest_probing are read natively.
_KENLM_V5 = b"mmap lm http://kheafield.com/code format version 5\n\x00"
_KENLM_TYPE_AT = 96
_KENLM_NATIVE_TYPES = (0, 2, 3, 4, 5)


def reads_natively(path: str | Path) -> bool:
    """Whether :class:`ArpaLM` reads ``path``: anything but a KenLM binary it cannot map.

    ARPA files (plain or compressed), the kit's binaries and KenLM probing/trie binaries
    are read natively; a ``rest_probing`` KenLM binary or another KenLM format version needs
    the ``kenlm`` package.

    Example:
        >>> reads_natively("../shared/data/kenlm-bin/test.trie.bin")             # doctest: +SKIP
        True
    """
    with open(path, "rb") as f:
        head = f.read(_KENLM_TYPE_AT + 4)
    if not head.startswith(KENLM_BINARY_MAGIC):
        return True
    native = head.startswith(_KENLM_V5) and len(head) == _KENLM_TYPE_AT + 4
    return native and int.from_bytes(head[_KENLM_TYPE_AT:], "little") in _KENLM_NATIVE_TYPES


class _KenLMBinaryError(LanguageModelError, FileFormatError):
    """A KenLM binary the native reader refuses: a language-model error (as the kenlm package's refusal) and a file-format one."""


def _open(path: Path, head: bytes = b""):  # -> _native.NgramLM
    """The native model of ``path`` (an ARPA file, plain or compressed, or a binary), with the C++ errors turned into the kit's."""
    module = decompressor(head)
    try:
        if module is None:
            return _native.NgramLM(str(path))
        with module.open(path, "rb") as stream:  # decompressed as it is parsed, never whole
            return _native.NgramLM.from_stream(str(path), stream.readinto)
    except ValueError as exc:
        raise FileFormatError(str(exc)) from None
    except RuntimeError as exc:  # the C++ reader could not open or read the file, or decompressing failed
        raise (MissingFileError if module is None else FileFormatError)(str(exc)) from None


def _head(path: Path) -> bytes:
    """The first 8 bytes of ``path``."""
    try:
        with path.open("rb") as f:
            return f.read(8)
    except OSError as exc:
        raise MissingFileError(f"cannot read language model file {str(path)!r}: {exc.strerror}") from None


class ArpaLM:
    """A word n-gram LM read from an ARPA file by native code (scores equal KenLM's).

    ``path`` may be a plain ARPA file, one compressed with gzip, bzip2 or xz (recognised by
    its first bytes and decompressed as it is read), a binary file written by
    :meth:`save_binary`, or a KenLM binary (``probing`` or ``trie``). An ARPA file's
    binary is cached as ``<path>.ckbin`` beside it when that folder is writable, else under
    :func:`ctcdecode_kit.cache.user_cache_dir`, and used instead of the text while the ARPA
    file keeps its size and modification time (``binary_path`` says which file is mapped;
    None when nothing could be cached). Opening checks the binary's header only; call
    :meth:`verify` for a full check of its body. The kit replaces a binary by renaming a
    new file over it, never by writing into it, so a model keeps the file it mapped; do the
    same (a file cut short under a live mapping makes reads fault).

    A KenLM binary of the ``probing`` or ``trie`` type (``build_binary probing`` / ``trie``,
    with ``-q``/``-b`` quantisation and ``-a`` pointer compression or without) is read natively
    too: it is mapped and used in place, with KenLM's scores bit for bit; its words (all
    but ``<s>``, ``</s>``, ``<unk>``) stand for the unigram list, since KenLM keeps no
    backoff columns. Opening it maps the file and indexes its word strings; the sorted word
    list for prefix checks is built on first use, and :meth:`verify` checks that every word
    leads back to its id. A KenLM binary that is truncated, damaged or of
    another type (``rest_probing``) is refused naming the file, with an error that is both a
    :class:`~ctcdecode_kit.errors.LanguageModelError` (as :class:`~ctcdecode_kit.lm.KenLM`
    raises) and a :class:`~ctcdecode_kit.errors.FileFormatError`: give a rest_probing file to
    :class:`~ctcdecode_kit.lm.KenLM`, or pass its path as ``lm=`` to a decoder (KenLM
    callbacks).

    Implements the kit's language-model protocol: ``begin()``, ``score(state, word) ->
    (natural-log prob, new state)``, ``end(state)``, ``order``; states are hashable tuples.
    ``log10_scores(words)`` gives KenLM-style per-word log10 scores.

    Example:
        >>> lm = ArpaLM("../shared/data/kenlm/test.arpa")                      # doctest: +SKIP
        >>> round(lm.log10_scores(["looking"], eos=False)[0], 6)               # doctest: +SKIP
        -0.484652
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(f"language model file {str(path)!r} does not exist")
        self.path = path
        self.binary_path: Path | None = None
        self._stamp = (0, 0)
        head = _head(path)
        if head.startswith(KENLM_BINARY_MAGIC):  # a KenLM binary: refused as a language model (the kenlm package's error class too)
            try:
                self._model = _open(path)
            except FileFormatError as exc:
                raise _KenLMBinaryError(str(exc)) from None
            self.binary_path = path
            return
        if head.startswith(_BINARY_HEADS):
            self._model = _open(path)
            self.binary_path = path
            return
        stat = path.stat()
        self._stamp = (stat.st_size, stat.st_mtime_ns)
        cache = derived_path(path, BINARY_SUFFIX)
        if _native.ngram_binary_stamp(str(cache)) == self._stamp:
            try:
                self._model = _open(cache)
                self.binary_path = cache
                return
            except (FileFormatError, MissingFileError):  # replaced or damaged meanwhile: rebuild it
                pass
        self._model = _open(path, head)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            self._model.save_binary(str(cache), *self._stamp)
            self._model = _open(cache)  # the mapped copy: shared between processes, no heap copy
            self.binary_path = cache
        except (OSError, RuntimeError, FileFormatError, MissingFileError):
            pass  # no cache (full disk, no writable folder): keep the model read from the text

    @property
    def order(self) -> int:
        """The n-gram order."""
        return int(self._model.order)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._model

    def begin(self) -> tuple[int, ...]:
        """The sentence-start state (after ``<s>``)."""
        return self._model.begin_state()

    def score(self, state: tuple[int, ...], word: str) -> tuple[float, tuple[int, ...]]:
        """Natural-log P(word | state) and the next state."""
        log10, new_state = self._model.score_state(state, word)
        return log10_to_ln(log10), new_state

    def end(self, state: tuple[int, ...]) -> float:
        """Natural-log P(``</s>`` | state)."""
        return log10_to_ln(self._model.score_state(state, "</s>")[0])

    def log10_scores(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> list[float]:
        """log10 score of each word (and of ``</s>`` when ``eos``), as kenlm's full_scores."""
        return list(self._model.full_scores(list(words), bos, eos))

    def sentence_log10(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> float:
        """Total log10 score of a sentence, as ``kenlm.Model.score``."""
        return float(self._model.sentence_score(list(words), bos, eos))

    def save_binary(self, path: str | Path) -> Path:
        """Write the model's binary file to ``path`` (atomically) and return ``path``.

        ``ArpaLM(path)`` and ``lm=path`` recognise the file by its header and map it. ARPA
        files get one automatically (see the class); this is for choosing where it goes.

        Example:
            >>> ArpaLM("big.arpa").save_binary("/models/big.ckbin")                 # doctest: +SKIP
            >>> decoder = build_decoder("native", vocab, lm="/models/big.ckbin")     # doctest: +SKIP
        """
        path = Path(path)
        try:
            self._model.save_binary(str(path), *self._stamp)
        except RuntimeError as exc:  # the C++ writer failed
            raise LanguageModelError(f"could not write the binary LM {str(path)!r}: {exc}") from None
        return path

    def verify(self) -> None:
        """Check the whole binary file against the checksum in its header.

        Opening reads only the header; this reads every byte, so a damaged body is found.
        Raises :class:`~ctcdecode_kit.errors.FileFormatError` naming the file when it
        differs (delete it: the next load rebuilds it from the ARPA). A model read from ARPA
        text with no binary has nothing to check.

        Example:
            >>> ArpaLM("lm.arpa").verify()                                          # doctest: +SKIP
        """
        try:
            self._model.verify()
        except ValueError as exc:
            raise FileFormatError(str(exc)) from None

    def listed_unigrams(self) -> list[str]:
        """Unigrams written with a backoff (the set pyctcdecode uses for OOV and prefix checks)."""
        return list(self._model.listed_unigrams())

    @property
    def vocab_size(self) -> int:
        """Number of words in the model, ``<s>``, ``</s>`` and ``<unk>`` included."""
        return int(self._model.vocab_size)

    def __repr__(self) -> str:
        return f"ArpaLM({str(self.path)!r}, order={self.order})"
