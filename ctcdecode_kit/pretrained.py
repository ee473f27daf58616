"""Hugging Face "-with-lm" repos: load their decoder, reproduce their answers, write the layout.

Thousands of Hub repos ship a CTC model with the decoder that transformers'
``Wav2Vec2ProcessorWithLM`` (deprecated, removed in Transformers v6) builds with pyctcdecode.
They keep it in this layout, beside the tokenizer and feature-extractor files::

    alphabet.json          {"labels": [...], "is_bpe": bool}   ("" blank, " " delimiter, "⁇" unk)
    language_model/
      attrs.json           {"alpha", "beta", "unk_score_offset", "score_boundary"}
      unigrams.txt         one word per line (may be empty)
      <name>.arpa | <name>.bin

:func:`from_pretrained` turns such a folder or Hub id into a ready kit decoder (``native``
by default, which needs neither pyctcdecode nor kenlm): the vocabulary comes from the
tokenizer and is checked against ``alphabet.json``; the LM file, ``attrs.json``'s weights,
``unigrams.txt`` and ``score_boundary`` are honoured, with ``lm_rules="pyctcdecode"`` so the
answers are the ones the repo's users got from ``processor.batch_decode`` (text, the
acoustic ``logit_score`` as ``Hypothesis.am_score``, the fused ``lm_score`` as
``Hypothesis.score``, word offsets as ``Hypothesis.words`` frames). Keyword overrides win
over the repo's settings. :func:`save_pretrained` writes the layout from a kit decoder, so
the folder loads in ``Wav2Vec2ProcessorWithLM.from_pretrained`` (for users still on
Transformers v5) and in the kit.

:func:`load_decoder_config` reads the layout without building a decoder
(:class:`DecoderConfig`); :class:`~ctcdecode_kit.AcousticModel` keeps it as
``decoder_config`` so ``transcribe``, ``compare`` and ``tune`` use a repo's LM and weights.

The LM is loaded through the process-wide cache (:func:`ctcdecode_kit.lm.load_lm`). An
ARPA file is opened through a link under the user cache folder, so the binary image the
native reader derives from it lands there, never inside ``language_model/`` (pyctcdecode
refuses a folder with a fourth file).

Example:
    >>> import ctcdecode_kit
    >>> decoder = ctcdecode_kit.from_pretrained("patrickvonplaten/wav2vec2-base-100h-with-lm")  # doctest: +SKIP
    >>> decoder.decode(logits)[0][0].text                                                       # doctest: +SKIP
    'A MAN SAID TO THE UNIVERSE SIR I EXIST'
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FileFormatError, InputError, MissingFileError, VocabularyError
from .vocabulary import Vocabulary

__all__ = [
    "ALPHABET_FILE",
    "ATTRS_FILE",
    "DecoderConfig",
    "LM_DIR",
    "LayoutError",
    "UNIGRAMS_FILE",
    "from_pretrained",
    "load_decoder_config",
    "save_pretrained",
]

ALPHABET_FILE = "alphabet.json"
LM_DIR = "language_model"
ATTRS_FILE = "attrs.json"
UNIGRAMS_FILE = "unigrams.txt"
LM_SUFFIXES = (".arpa", ".bin", ".binary")  # what pyctcdecode's LanguageModel.load_from_dir accepts
ATTRS_KEYS = ("alpha", "beta", "unk_score_offset", "score_boundary")
PYCTCDECODE_DEFAULTS = {"alpha": 0.5, "beta": 1.5, "unk_score_offset": -10.0, "score_boundary": True}
UNK = "\u2047"  # pyctcdecode's "⁇"
BPE_UNK = "\u2581\u2047\u2581"
_TOKENIZER_FILES = (
    "vocab.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json",
    "config.json", "preprocessor_config.json", "processor_config.json",
)
_PAD_NAMES = ("<pad>", "[pad]")
_UNK_NAMES = ("<unk>", "[unk]")


class LayoutError(FileFormatError, VocabularyError):
    """A Hub "-with-lm" folder is inconsistent (alphabet vs tokenizer, two LM files...); the message names the file."""


# ---------------------------------------------------------------------------- the layout
@dataclass(frozen=True)
class DecoderConfig:
    """A "-with-lm" repo's decoder settings, as read from its folder by :func:`load_decoder_config`.

    Attributes:
        folder: the local folder (a Hub snapshot for a Hub id).
        vocabulary: the tokenizer's vocabulary (checked against ``alphabet.json``).
        labels: ``alphabet.json``'s labels (None when the folder has no alphabet.json).
        is_bpe: ``alphabet.json``'s ``is_bpe``.
        lm_path: the LM file in ``language_model/`` (None: the repo has no LM).
        alpha, beta, unk_score_offset, score_boundary: ``attrs.json``'s values.
        unigrams: ``unigrams.txt``'s words (None when the file is absent; may be empty).

    Example:
        >>> config = load_decoder_config("my-model-with-lm")          # doctest: +SKIP
        >>> config.alpha, config.beta, config.lm_path.name            # doctest: +SKIP
        (0.5, 1.5, '5gram.bin')
    """

    folder: Path
    vocabulary: Vocabulary
    labels: tuple[str, ...] | None = None
    is_bpe: bool = False
    lm_path: Path | None = None
    alpha: float = PYCTCDECODE_DEFAULTS["alpha"]
    beta: float = PYCTCDECODE_DEFAULTS["beta"]
    unk_score_offset: float = PYCTCDECODE_DEFAULTS["unk_score_offset"]
    score_boundary: bool = True
    unigrams: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def has_lm(self) -> bool:
        """Whether the repo ships a language model."""
        return self.lm_path is not None

    def decoder_options(self, decoder: str = "native") -> dict[str, Any]:
        """The keyword options that make backend ``decoder`` decode as the repo's processor does.

        ``native`` gets the LM, the four ``attrs.json`` values, the unigrams and
        ``lm_rules="pyctcdecode"`` with ``lm_case=None`` (pyctcdecode never changes case);
        another backend gets those of them it takes. Without an LM: no LM options.

        Example:
            >>> config.decoder_options()["lm_rules"]                  # doctest: +SKIP
            'pyctcdecode'
        """
        from .decoder import decoder_option_names

        if self.lm_path is None:
            return {}
        options: dict[str, Any] = {
            "lm": str(_lm_source(self.lm_path)),
            "alpha": float(self.alpha),
            "beta": float(self.beta),
            "unk_score_offset": float(self.unk_score_offset),
            "lm_rules": "pyctcdecode",
            "lm_case": None,
        }
        if _native_takes("unigrams"):
            options["unigrams"] = self.unigrams
        if _native_takes("score_boundary"):
            options["score_boundary"] = bool(self.score_boundary)
        accepted = decoder_option_names(decoder)
        if accepted is None:
            return options
        return {k: v for k, v in options.items() if k in accepted}

    def build_decoder(self, decoder: str = "native", *, vocabulary: Vocabulary | None = None, **overrides: Any) -> Any:
        """The decoder ``decoder`` with the repo's settings; ``overrides`` win.

        ``vocabulary`` replaces the tokenizer's (an acoustic model's own, say).

        Example:
            >>> config.build_decoder(beam_width=20, alpha=0.7)        # doctest: +SKIP
            NativeDecoder(vocabulary=32 tokens, beam_width=20, lm=ArpaLM(...))
        """
        from .decoder import build_decoder

        options = self.decoder_options(decoder)
        return build_decoder(decoder, vocabulary or self.vocabulary, **{**options, **overrides})


def from_pretrained(
    name_or_dir: str | Path,
    decoder: str = "native",
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    **overrides: Any,
) -> Any:
    """A ready decoder from a Hugging Face "-with-lm" repo (a local folder or a Hub id).

    Args:
        name_or_dir: a folder in the Hub layout (``alphabet.json``, ``language_model/``,
            tokenizer files) or a Hub id, downloaded with ``huggingface_hub.snapshot_download``
            (only those files, never the model weights).
        decoder: the kit backend (``"native"``: no pyctcdecode or kenlm needed).
        revision, cache_dir: passed to ``snapshot_download`` for a Hub id.
        **overrides: decoder options that win over the repo's (``alpha``, ``beta``,
            ``beam_width``, ``lm_rules="kit"``, ``lm=None`` to drop the LM, ...).

    Raises:
        MissingFileError: the folder, ``attrs.json`` or the LM file is missing.
        LayoutError: ``alphabet.json`` does not match the tokenizer, or two LM files.

    Example:
        >>> decoder = from_pretrained("./wav2vec2-base-100h-with-lm", beam_width=50)  # doctest: +SKIP
        >>> [h.text for h in (hyps[0] for hyps in decoder.decode(logits, lengths))]   # doctest: +SKIP
    """
    config = load_decoder_config(name_or_dir, revision=revision, cache_dir=cache_dir)
    return config.build_decoder(decoder, **overrides)


def load_decoder_config(
    name_or_dir: str | Path, *, revision: str | None = None, cache_dir: str | Path | None = None
) -> DecoderConfig:
    """Read a "-with-lm" folder or Hub repo into a :class:`DecoderConfig` (nothing is built).

    A folder without ``alphabet.json`` and ``language_model/`` (a plain CTC model) gives a
    config without an LM.

    Example:
        >>> load_decoder_config("no-such-folder/")
        Traceback (most recent call last):
        ...
        ctcdecode_kit.errors.MissingFileError: model folder 'no-such-folder/' does not exist...
    """
    folder = _local_folder(name_or_dir, revision=revision, cache_dir=cache_dir)
    vocabulary = _tokenizer_vocabulary(folder)
    labels, is_bpe = _read_alphabet(folder)
    if labels is not None:
        _check_alphabet(folder / ALPHABET_FILE, labels, is_bpe, vocabulary, folder)
    lm_dir = folder / LM_DIR
    if not lm_dir.is_dir():
        if lm_dir.exists():
            raise LayoutError(f"{str(lm_dir)!r} is not a folder; expected {LM_DIR}/ with {ATTRS_FILE}, "
                              f"{UNIGRAMS_FILE} and one .arpa or .bin file")
        return DecoderConfig(folder, vocabulary, labels, is_bpe)
    if labels is None:
        raise MissingFileError(
            f"{str(folder / ALPHABET_FILE)!r} does not exist; a folder with {LM_DIR}/ needs the decoder's "
            f"alphabet.json (written by Wav2Vec2ProcessorWithLM.save_pretrained or ctcdecode_kit.save_pretrained)"
        )
    attrs = _read_attrs(lm_dir / ATTRS_FILE)
    unigrams = _read_unigrams(lm_dir / UNIGRAMS_FILE)
    lm_path = _find_lm_file(lm_dir)
    return DecoderConfig(
        folder, vocabulary, labels, is_bpe, lm_path, float(attrs["alpha"]), float(attrs["beta"]),
        float(attrs["unk_score_offset"]), bool(attrs["score_boundary"]), unigrams,
    )


def _local_folder(name_or_dir: str | Path, *, revision: str | None, cache_dir: str | Path | None) -> Path:
    """The folder holding the layout: ``name_or_dir`` itself, or a Hub snapshot of the files needed."""
    text = str(name_or_dir)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if isinstance(name_or_dir, Path) or text.startswith((".", "/", "~")) or text.count("/") > 1 or path.exists():
        raise MissingFileError(f"model folder {text!r} does not exist")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HFValidationError
    except ImportError:  # pragma: no cover - huggingface_hub is a core dependency
        raise MissingFileError(f"model folder {text!r} does not exist") from None
    try:
        snapshot = snapshot_download(
            text, revision=revision, cache_dir=None if cache_dir is None else str(cache_dir),
            allow_patterns=[ALPHABET_FILE, f"{LM_DIR}/*", *_TOKENIZER_FILES],
        )
    except HFValidationError:
        raise MissingFileError(f"model folder {text!r} does not exist (and it is not a Hub id)") from None
    except OSError as exc:  # network errors, missing repos and gated repos are OSErrors in huggingface_hub
        raise MissingFileError(
            f"could not download {text!r} from the Hugging Face Hub ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); pass a local folder to work offline"
        ) from exc
    return Path(snapshot)


def _tokenizer_vocabulary(folder: Path) -> Vocabulary:
    try:
        return Vocabulary.from_pretrained(folder)
    except VocabularyError as exc:
        raise VocabularyError(f"model folder {str(folder)!r}: {exc}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{str(path)!r} is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{str(path)!r} is not valid JSON: {exc}") from None


def _read_alphabet(folder: Path) -> tuple[tuple[str, ...] | None, bool]:
    path = folder / ALPHABET_FILE
    if not path.is_file():
        return None, False
    data = _read_json(path)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("labels"), list)
        or not all(isinstance(label, str) for label in data["labels"])
        or not isinstance(data.get("is_bpe", False), bool)
    ):
        raise FileFormatError(f"{str(path)!r} must hold {{\"labels\": [strings], \"is_bpe\": true|false}}")
    return tuple(data["labels"]), bool(data.get("is_bpe", False))


def _read_attrs(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingFileError(
            f"{str(path)!r} does not exist; a {LM_DIR}/ folder needs {ATTRS_FILE} with "
            f"{', '.join(ATTRS_KEYS)} (write one with ctcdecode_kit.save_pretrained)"
        )
    data = _read_json(path)
    if not isinstance(data, dict):
        raise FileFormatError(f"{str(path)!r} must hold a JSON object with {', '.join(ATTRS_KEYS)}")
    attrs = {**PYCTCDECODE_DEFAULTS, **data}
    for key in ("alpha", "beta", "unk_score_offset"):
        value = attrs[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FileFormatError(f"{str(path)!r}: {key} must be a number, got {value!r}")
    if not isinstance(attrs["score_boundary"], bool):
        raise FileFormatError(f"{str(path)!r}: score_boundary must be true or false, got {attrs['score_boundary']!r}")
    return attrs


def _read_unigrams(path: Path) -> tuple[str, ...] | None:
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{str(path)!r} is not UTF-8 ({exc.reason})") from None
    return tuple(text.splitlines())


def _find_lm_file(lm_dir: Path) -> Path:
    found = sorted(p for p in lm_dir.iterdir() if p.suffix in LM_SUFFIXES and not p.name.startswith((".", "__")))
    if not found:
        raise MissingFileError(
            f"{str(lm_dir)!r} holds no language model file; expected one .arpa or .bin file beside "
            f"{ATTRS_FILE} and {UNIGRAMS_FILE}"
        )
    if len(found) > 1:
        raise LayoutError(
            f"{str(lm_dir)!r} holds {len(found)} language model files ({', '.join(p.name for p in found)}); "
            f"pyctcdecode and the kit expect exactly one"
        )
    return found[0]


# ---------------------------------------------------------------------------- alphabet
def alphabet_labels(vocabulary: Vocabulary, *, is_bpe: bool | None = None) -> list[str]:
    """The ``alphabet.json`` labels pyctcdecode derives from ``vocabulary``'s tokens.

    The blank becomes ``""``, the word delimiter ``" "``, ``<unk>`` ``"⁇"`` (``"▁⁇▁"`` for BPE),
    every other token stays as it is.

    Example:
        >>> alphabet_labels(Vocabulary.from_labels(["<pad>", "<unk>", "|", "A"]))
        ['', '⁇', ' ', 'A']
    """
    bpe = vocabulary.word_prefix if is_bpe is None else is_bpe
    labels = []
    for i, token in enumerate(vocabulary.tokens):
        if i == vocabulary.blank or token.lower() in _PAD_NAMES:
            labels.append("")
        elif i == vocabulary.word_delimiter and not bpe:
            labels.append(" ")
        elif token.lower() in _UNK_NAMES:
            labels.append(BPE_UNK if bpe else UNK)
        elif bpe and token.startswith("##"):
            labels.append(token[2:])
        else:
            labels.append(token)
    return labels


def _check_alphabet(path: Path, labels: Sequence[str], is_bpe: bool, vocabulary: Vocabulary, folder: Path) -> None:
    """Raise LayoutError naming the tokens where ``alphabet.json`` and the tokenizer disagree."""
    expected = alphabet_labels(vocabulary, is_bpe=is_bpe)
    if list(labels) == expected:
        return
    differ = [
        f"id {i}: tokenizer {vocabulary.tokens[i]!r} (alphabet label {want!r}) vs alphabet {got!r}"
        for i, (want, got) in enumerate(zip(expected, labels))
        if want != got
    ]
    if len(labels) != len(expected):
        extra = (
            f"alphabet only: {list(labels[len(expected):])}" if len(labels) > len(expected)
            else f"tokenizer only: {list(vocabulary.tokens[len(labels):])}"
        )
        differ.append(extra)
    shown = "; ".join(differ[:6]) + (f"; ... ({len(differ)} in all)" if len(differ) > 6 else "")
    raise LayoutError(
        f"{str(path)!r} does not match the tokenizer in {str(folder)!r} ({len(labels)} labels vs "
        f"{len(expected)} tokens): {shown}"
    )


# ---------------------------------------------------------------------------- the LM file
def _native_takes(option: str) -> bool:
    from .decoder import decoder_option_names

    try:
        accepted = decoder_option_names("native")
    except (InputError, ImportError):
        return False
    return accepted is None or option in accepted


def _lm_source(path: Path) -> Path:
    """The path to load ``path`` through: an ARPA file via a link under the user cache.

    The native reader writes an ARPA file's binary image beside the path it is given; a
    ``language_model/`` folder (or a Hub snapshot) must keep exactly its three files, so the
    image goes beside a link in the user cache instead. KenLM binaries are mapped in place
    and loaded directly.
    """
    from .lm.arpa import is_kenlm_binary

    if is_kenlm_binary(path):
        return path
    from .cache import user_cache_dir

    target = path.resolve()
    key = hashlib.blake2b(str(target).encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()
    link = user_cache_dir() / "hub-lm" / key / path.name
    try:
        if link.is_symlink() and link.resolve() == target:
            return link
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(target)
        os.replace(tmp, link)
        return link
    except OSError:
        return path  # no usable cache folder: the image goes where the reader decides


# ---------------------------------------------------------------------------- writing
def save_pretrained(decoder: Any, out_dir: str | Path) -> Path:
    """Write ``decoder``'s ``alphabet.json`` and ``language_model/`` into ``out_dir``.

    Files already in ``out_dir`` (the model, tokenizer and feature-extractor files) are kept;
    saving again into the same folder replaces the decoder's files. The LM file is
    hard-linked where the file system allows, else copied. ``unigrams.txt`` lists the words
    the decoder treats as known, so pyctcdecode (and ``Wav2Vec2ProcessorWithLM``) decodes
    the folder as the decoder does when it uses ``lm_rules="pyctcdecode"``; a decoder with
    ``lm_rules="kit"`` is saved with a warning saying what pyctcdecode will do differently.
    A decoder without an LM writes ``alphabet.json`` only (and removes a stale
    ``language_model/``). Returns ``out_dir``.

    Raises:
        InputError: the decoder's LM is not a file pyctcdecode can read (a Python LM, a
            kit ``.ckbin`` image).

    Example:
        >>> decoder = build_decoder("native", vocab, lm="lm.arpa", lm_rules="pyctcdecode")  # doctest: +SKIP
        >>> save_pretrained(decoder, "my-model-with-lm")                                     # doctest: +SKIP
        PosixPath('my-model-with-lm')
    """
    vocabulary = getattr(decoder, "vocabulary", None)
    if not isinstance(vocabulary, Vocabulary):
        raise InputError(f"save_pretrained needs a kit decoder with a vocabulary, got {type(decoder).__name__}")
    config = dict(getattr(decoder, "_config", None) or {})
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(f"output {str(out)!r} exists and is not a folder")
    lm = config.get("lm")
    if lm is None and "lms" in config:
        raise InputError(
            f"save_pretrained writes a beam decoder with one fused LM (native or pyctcdecode); "
            f"{type(decoder).__name__} rescores n-best lists"
        )
    lm_file = None if lm is None else _lm_file_of(lm)
    out.mkdir(parents=True, exist_ok=True)
    is_bpe = vocabulary.word_prefix
    _write_atomic(out / ALPHABET_FILE, json.dumps({"labels": alphabet_labels(vocabulary), "is_bpe": is_bpe}))
    lm_dir = out / LM_DIR
    if lm is None:
        if lm_dir.is_dir():
            shutil.rmtree(lm_dir)
        return out
    rules = config.get("lm_rules", "kit")
    if rules == "kit":
        warnings.warn(
            f"saving a decoder with lm_rules='kit' into {str(out)!r}: pyctcdecode (Wav2Vec2ProcessorWithLM) will "
            f"decode it with its own rules: unk_score_offset multiplied by alpha*ln(10) instead of added as is, a "
            f"hypothesis ending in a word delimiter scored as ending in an empty unknown word, and the word frames "
            f"of the last merged beam; the kit loads it back with lm_rules='pyctcdecode' unless you pass "
            f"lm_rules='kit'",
            UserWarning,
            stacklevel=2,
        )
    attrs = {
        "alpha": float(config.get("alpha", PYCTCDECODE_DEFAULTS["alpha"])),
        "beta": float(config.get("beta", PYCTCDECODE_DEFAULTS["beta"])),
        "unk_score_offset": float(config.get("unk_score_offset", PYCTCDECODE_DEFAULTS["unk_score_offset"])),
        "score_boundary": bool(config.get("score_boundary", True)),
    }
    lm_dir.mkdir(exist_ok=True)
    for old in lm_dir.iterdir():  # a second save replaces the first one's LM file
        if old.suffix in LM_SUFFIXES and old.name != lm_file.name and (old.is_file() or old.is_symlink()):
            old.unlink()
    _write_atomic(lm_dir / ATTRS_FILE, json.dumps(attrs))
    words = _known_words(lm, lm_file, rules, config.get("unigrams"))
    _write_atomic(lm_dir / UNIGRAMS_FILE, "".join(w + "\n" for w in sorted(words)))
    _link_or_copy(lm_file, lm_dir / lm_file.name)
    return out


def _lm_file_of(lm: Any) -> Path:
    path = getattr(lm, "path", None)
    if isinstance(lm, (str, Path)):
        path = Path(lm)
    if not isinstance(path, Path) or not path.is_file():
        raise InputError(
            f"save_pretrained needs the decoder's LM file (an ARPA or KenLM binary); {type(lm).__name__} has none"
        )
    if path.suffix not in LM_SUFFIXES:
        raise InputError(
            f"language model {str(path)!r}: pyctcdecode reads only {', '.join(LM_SUFFIXES)} files; build the decoder "
            f"from the ARPA file (or KenLM binary) itself"
        )
    return path


def _known_words(lm: Any, lm_file: Path, rules: str, unigrams: Sequence[str] | None) -> list[str]:
    """The words the decoder counts as known: its unigram list, else those of its rules."""
    from .lm.cache import load_lm

    native = load_lm(_lm_source(lm_file), "native")
    if unigrams is not None:
        return [w for w in unigrams if w in native]
    if rules == "pyctcdecode":
        return list(native.listed_unigrams())
    from .lm.arpa import inspect_arpa, is_kenlm_binary

    if is_kenlm_binary(lm_file):
        return list(native.listed_unigrams())  # a KenLM binary: every word is listed
    return list(inspect_arpa(lm_file, validate=False).unigrams)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` as ``target`` (copy across file systems); already the same file: nothing."""
    source = source.resolve()
    try:
        if target.exists() and os.path.samefile(source, target):
            return
    except OSError:
        pass
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
