"""Pronunciation lexicons for phoneme CTC models, built from a word list.

:func:`build_lexicon` phonemises words with ``espeak-ng --ipa`` (Debian package
``espeak-ng``) or hama's neural G2P (the ``[onnx]`` extra), maps each pronunciation onto
a model's token inventory and returns a :class:`~ctcdecode_kit.lexicon.Lexicon` (the
format the native decoder's ``lexicon=`` reads: ``word tok tok ... <wb>``) with the words
it could not map. Homophones simply get the same pronunciation; the word LM tells them
apart.

Mapping rules (:class:`PhonemeMapper`), applied to each word's IPA string in this order:

1. Unicode NFC.
2. Rewrites (:data:`ESPEAK_EN_RULES`, for espeak-ng output): espeak-ng's American
   English IPA is rewritten into the ARPAbet-like IPA that hama's recogniser emits:
   ``tʃ dʒ`` -> ``t͡ʃ d͡ʒ``, ``ɡ`` -> ``g``, r-coloured ``ɜːɹ ɚɹ ɜː ɜ ɚ`` -> ``ɝ``,
   ``oː`` -> ``ɔ``, reduced ``ᵻ`` -> ``ɪ`` and ``ɐ`` -> ``ə``, the flap ``ɾ`` and the glottal
   stop ``ʔ`` -> ``t``, syllabic ``n̩ l̩ m̩`` -> ``ən əl əm``, ``r`` -> ``ɹ``, ``x`` -> ``k``.
   A rewrite is applied only when its result can be matched (so a vocabulary that has
   ``tʃ`` keeps it).
3. Stress marks ``ˈ ˌ``, syllable dots, linking ``‿`` and zero-width joiners end a
   segment and are dropped; the length mark ``ː`` is dropped.
4. Each segment is cut into the vocabulary's tokens by longest match (``aɪ`` before
   ``a``), never using the blank, the word delimiter, special tokens, or glide+vowel
   digraphs (``ja``, ``wa``, ``we``..., Korean syllables in hama's inventory: English IPA
   writes the glide and the vowel apart).
5. A character no token matches makes the word unmappable; it is reported, not guessed.

hama's G2P outputs the model's own tokens, so its pronunciations skip the rules (a token
the vocabulary lacks still makes the word unmappable).

Phonemisations are cached: beside the word list when its folder is writable, else under
``~/.cache/ctcdecode_kit`` (:func:`ctcdecode_kit.cache.derived_path`), keyed by the tool,
its version, the voice and the word list's contents.

Example:
    >>> from ctcdecode_kit import Vocabulary
    >>> vocab = Vocabulary.from_labels(["<blank>", "<wb>", "k", "æ", "t", "d", "ɔ", "g"],
    ...                                blank="<blank>", word_delimiter="<wb>")
    >>> PhonemeMapper(vocab).map("kˈæt")
    ('k', 'æ', 't')
    >>> PhonemeMapper(vocab).map("dˈɔːɡ")
    ('d', 'ɔ', 'g')
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .cache import derived_path, user_cache_dir
from .errors import (
    InputError,
    MissingDependencyError,
    MissingFileError,
    VocabularyError,
)
from .inputs import read_text_file
from .lexicon import Lexicon
from .vocabulary import Vocabulary

__all__ = [
    "BACKENDS",
    "ESPEAK_EN_RULES",
    "LexiconBuild",
    "PhonemeMapper",
    "build_lexicon",
    "espeak_ipa",
    "hama_pronunciations",
    "read_word_list",
]

BACKENDS = ("espeak", "hama")
"""G2P backends: ``espeak`` (``espeak-ng --ipa``, fast) and ``hama`` (hama's neural G2P, ~0.1 s/word)."""

ESPEAK_EN_RULES: tuple[tuple[str, str], ...] = (
    ("tʃ", "t͡ʃ"),
    ("dʒ", "d͡ʒ"),
    ("ɡ", "g"),
    ("ɜːɹ", "ɝ"),
    ("ɚɹ", "ɝ"),
    ("ɜː", "ɝ"),
    ("ɜ", "ɝ"),
    ("ɚ", "ɝ"),
    ("oː", "ɔ"),
    ("ᵻ", "ɪ"),
    ("ɐ", "ə"),
    ("ʔn̩", "tən"),
    ("n̩", "ən"),
    ("l̩", "əl"),
    ("m̩", "əm"),
    ("ɾ", "t"),
    ("ʔ", "t"),
    ("r", "ɹ"),
    ("x", "k"),
)
"""Rewrites from espeak-ng's en-us IPA to the ARPAbet-like IPA of hama's recogniser (rule 2)."""

_BOUNDARIES = "ˈˌ.‿\u200d\u200c "
_DROPPED = "ː"
_GLIDE_DIGRAPH = re.compile(r"^[jw][aeiouɯʌɛɔəɪʊæɑ]$")
_ESPEAK_CHUNK = 2000
_CACHE_FORMAT = "ctcdecode_kit-g2p-1"


# ---------------------------------------------------------------------------- word lists
def read_word_list(path: str | Path) -> list[str]:
    """Words of a word-list file: one per line (first column), or the unigrams of an ARPA file.

    Lexicon files (``word tok tok ...``, e.g. ``words.lst``) give their first column;
    ``<s>``, ``</s>``, ``<unk>`` and duplicates are dropped; order is kept.

    Example:
        >>> read_word_list("../shared/data/torchaudio/lexicon.txt")
        ['foo', 'bar', 'foobar']
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"word list {str(path)!r} does not exist")
    with open(path, "rb") as stream:
        head = stream.read(4096)
    if head.lstrip().startswith(b"\\data\\"):
        from ctcdecode_kit.lm.arpa import inspect_arpa

        return list(dict.fromkeys(inspect_arpa(path, validate=False).unigrams))
    text = read_text_file(path, "word list")
    words = [line.split()[0] for line in text.splitlines() if line.strip()]
    words = [w for w in words if w not in ("<s>", "</s>", "<unk>")]
    if not words:
        raise InputError(f"word list {str(path)!r} holds no words")
    return list(dict.fromkeys(words))


# ---------------------------------------------------------------------------- backends
def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise MissingDependencyError(
            "espeak-ng is not installed; install it with: apt-get install espeak-ng (or use the hama G2P backend)"
        )
    return exe


def espeak_version() -> str:
    """espeak-ng's version string (part of the cache key).

    Example:
        >>> espeak_version().startswith("eSpeak NG")   # doctest: +SKIP
        True
    """
    out = subprocess.run([_espeak(), "--version"], capture_output=True, text=True, check=True).stdout
    return out.split("Data at")[0].strip()


def espeak_ipa(words: Sequence[str], *, voice: str = "en-us") -> list[str]:
    """espeak-ng's IPA for each word (``espeak-ng -q --ipa -v VOICE``), stress marks included.

    Words go through one espeak-ng process per 2,000 words, each on its own line ended by a
    full stop so that every word is read as its own clause (citation form).

    Example:
        >>> espeak_ipa(["hello", "world"])   # doctest: +SKIP
        ['həlˈoʊ', 'wˈɜːld']
    """
    exe = _espeak()
    out: list[str] = []
    for start in range(0, len(words), _ESPEAK_CHUNK):
        chunk = [w.replace(".", " ").strip() for w in words[start : start + _ESPEAK_CHUNK]]
        out.extend(line.strip() for line in _espeak_lines(exe, voice, chunk))
    return out


def _espeak_lines(exe: str, voice: str, words: list[str]) -> list[str]:
    """One IPA line per word; a part whose line count is off (a word read as several clauses) is halved."""
    lines = _run_espeak(exe, voice, "".join(f"{w}.\n" for w in words))
    if len(lines) == len(words):
        return lines
    if len(words) == 1:
        return [" ".join(lines)]
    half = len(words) // 2
    return _espeak_lines(exe, voice, words[:half]) + _espeak_lines(exe, voice, words[half:])


def _run_espeak(exe: str, voice: str, text: str) -> list[str]:
    result = subprocess.run(
        [exe, "-q", "--ipa", "-v", voice, "--stdin"], input=text, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise InputError(f"espeak-ng failed (voice {voice!r}): {result.stderr.strip()[:300]}")
    return [line for line in result.stdout.split("\n") if line.strip()]


def hama_pronunciations(words: Sequence[str], *, progress: Callable[[int, int], None] | None = None) -> list[str]:
    """hama's G2P tokens for each word, space-separated (its decoder tokens = hama's ASR tokens).

    Needs the ``[onnx]`` extra; about 0.1-0.2 s per word on one CPU core.

    Example:
        >>> hama_pronunciations(["church"])   # doctest: +SKIP
        ['t͡ʃ ɝ t͡ʃ']
    """
    try:
        import hama
    except ImportError as exc:
        raise MissingDependencyError(
            "the hama G2P backend needs hama and onnxruntime; install them with: pip install 'ctcdecode-kit[onnx]'"
        ) from exc
    model = hama.G2PModel()
    out = []
    for i, word in enumerate(words):
        out.append(" ".join(a.phoneme for a in model.predict(word).alignments))
        if progress is not None:
            progress(i + 1, len(words))
    return out


def _tool_version(backend: str) -> str:
    if backend == "espeak":
        return espeak_version()
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"hama {version('hama')}"
    except PackageNotFoundError as exc:
        raise MissingDependencyError(
            "the hama G2P backend needs hama; install it with: pip install 'ctcdecode-kit[onnx]'"
        ) from exc


# ---------------------------------------------------------------------------- mapping
@dataclass(frozen=True)
class PhonemeMapper:
    """Maps an IPA string onto a vocabulary's tokens (the module's rules 1-5).

    Attributes:
        vocabulary: the model's vocabulary.
        rules: rewrites applied first (default :data:`ESPEAK_EN_RULES`).
    """

    vocabulary: Vocabulary
    rules: tuple[tuple[str, str], ...] = ESPEAK_EN_RULES
    _tokens: frozenset[str] = field(init=False, repr=False)
    _longest: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        v = self.vocabulary
        skip = set(v.special) | {v.blank} | ({v.word_delimiter} if v.word_delimiter is not None else set())
        tokens = frozenset(
            t for i, t in enumerate(v.tokens) if i not in skip and t.strip() and not _GLIDE_DIGRAPH.match(t)
        )
        if not tokens:
            raise VocabularyError("the vocabulary has no tokens a pronunciation can use")
        object.__setattr__(self, "_tokens", tokens)
        object.__setattr__(self, "_longest", max(len(t) for t in tokens))

    def map(self, ipa: str) -> tuple[str, ...]:
        """The tokens of one word's IPA; raises :class:`VocabularyError` naming what no token matches.

        Example:
            >>> from ctcdecode_kit import Vocabulary
            >>> v = Vocabulary.from_labels(["<blank>", "<wb>", "t͡ʃ", "ɝ", "aɪ", "a", "h"], blank="<blank>",
            ...                            word_delimiter="<wb>")
            >>> PhonemeMapper(v).map("tʃˈɜːtʃ"), PhonemeMapper(v).map("hˈaɪ")
            (('t͡ʃ', 'ɝ', 't͡ʃ'), ('h', 'aɪ'))
        """
        text = unicodedata.normalize("NFC", ipa)
        for source, target in self.rules:
            if source in text and self._matchable(target):
                text = text.replace(source, target)
        out: list[str] = []
        for segment in re.split(f"[{re.escape(_BOUNDARIES)}]+", text):
            segment = "".join(ch for ch in segment if ch not in _DROPPED)
            pos = 0
            while pos < len(segment):
                for size in range(min(self._longest, len(segment) - pos), 0, -1):
                    if segment[pos : pos + size] in self._tokens:
                        out.append(segment[pos : pos + size])
                        pos += size
                        break
                else:
                    raise VocabularyError(f"no token for {segment[pos]!r} (U+{ord(segment[pos]):04X}) in {ipa!r}")
        if not out:
            raise VocabularyError(f"the pronunciation {ipa!r} is empty")
        return tuple(out)

    def _matchable(self, text: str) -> bool:
        pos = 0
        while pos < len(text):
            for size in range(min(self._longest, len(text) - pos), 0, -1):
                if text[pos : pos + size] in self._tokens:
                    pos += size
                    break
            else:
                return False
        return True


# ---------------------------------------------------------------------------- building
@dataclass(frozen=True)
class LexiconBuild:
    """What :func:`build_lexicon` made.

    Attributes:
        lexicon: one entry per mappable (word, pronunciation), each ending with the word delimiter.
        unmapped: word -> why it has no entry (the raw pronunciation and the character no token matches).
        phonemes: word -> raw pronunciation per backend (``{"espeak": "kˈæt"}``).
        cache_files: the phonemisation caches read or written.
    """

    lexicon: Lexicon | None
    unmapped: dict[str, str]
    phonemes: dict[str, dict[str, str]]
    cache_files: tuple[Path, ...]


def build_lexicon(
    words: Iterable[str] | str | Path,
    vocabulary: Vocabulary,
    *,
    backends: Sequence[str] = ("espeak",),
    voice: str = "en-us",
    rules: tuple[tuple[str, str], ...] = ESPEAK_EN_RULES,
    cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> LexiconBuild:
    """Phonemise ``words`` and map them onto ``vocabulary``: a lexicon for lexicon-constrained decoding.

    Args:
        words: the words (an iterable), or a word-list file (:func:`read_word_list`:
            one word per line, a lexicon file's first column, or an ARPA file's unigrams).
        vocabulary: the phoneme model's vocabulary (e.g. ``hama_vocabulary()``).
        backends: ``"espeak"`` and/or ``"hama"``; with both, a word gets each distinct
            pronunciation (several pronunciations per word are allowed).
        voice: espeak-ng voice.
        rules: rewrites for espeak-ng output (see the module docs).
        cache: read and write the phonemisation cache.
        progress: ``progress(backend, done, total)``.

    Returns:
        :class:`LexiconBuild` (``lexicon`` is None when no word could be mapped).

    Example:
        >>> from ctcdecode_kit.onnx_model import hama_vocabulary                      # doctest: +SKIP
        >>> built = build_lexicon(["cat", "dog"], hama_vocabulary())                 # doctest: +SKIP
        >>> built.lexicon.entries                                                    # doctest: +SKIP
        (('cat', ('k', 'æ', 't', '<wb>')), ('dog', ('d', 'ɔ', 'g', '<wb>')))
    """
    if not isinstance(vocabulary, Vocabulary):
        raise VocabularyError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
    bad = [b for b in backends if b not in BACKENDS]
    if not backends or bad or isinstance(backends, str):
        raise InputError(f"backends must be a list of {', '.join(BACKENDS)}, got {backends!r}")
    source: Path | None = None
    if isinstance(words, (str, Path)):
        source = Path(words)
        word_list = read_word_list(source)
    else:
        word_list = list(dict.fromkeys(words))
        for w in word_list:
            if not isinstance(w, str) or not w.strip() or len(w.split()) != 1:
                raise InputError(f"word {w!r} must be a non-empty string without spaces")
    if not word_list:
        raise InputError("the word list is empty")
    mapper = PhonemeMapper(vocabulary, rules)
    phonemes: dict[str, dict[str, str]] = {w: {} for w in word_list}
    caches: list[Path] = []
    for backend in backends:
        raw, path = _phonemise(word_list, backend, voice, source, cache, progress)
        if path is not None:
            caches.append(path)
        for word, pron in zip(word_list, raw):
            phonemes[word][backend] = pron
    entries: dict[str, list[list[str]]] = {}
    unmapped: dict[str, str] = {}
    delimiter = [vocabulary.tokens[vocabulary.word_delimiter]] if vocabulary.word_delimiter is not None else []
    for word in word_list:
        prons: list[tuple[str, ...]] = []
        problems = []
        for backend, pron in phonemes[word].items():
            try:
                tokens = (
                    _known_tokens(pron, mapper) if backend == "hama" else mapper.map(pron)
                )
            except VocabularyError as exc:
                problems.append(f"{backend}: {exc}")
                continue
            if tokens not in prons:
                prons.append(tokens)
        if prons:
            entries[word] = [[*p, *delimiter] for p in prons]
        else:
            unmapped[word] = "; ".join(problems)
    lexicon = Lexicon.from_dict(entries) if entries else None
    return LexiconBuild(lexicon, unmapped, phonemes, tuple(caches))


def _known_tokens(pron: str, mapper: PhonemeMapper) -> tuple[str, ...]:
    tokens = tuple(pron.split())
    missing = [t for t in tokens if t not in mapper._tokens]
    if missing or not tokens:
        raise VocabularyError(f"tokens {missing or pron!r} are not pronunciation tokens of the vocabulary")
    return tokens


def _phonemise(
    words: list[str],
    backend: str,
    voice: str,
    source: Path | None,
    use_cache: bool,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[list[str], Path | None]:
    """Raw pronunciations of ``words`` from ``backend``, through the cache."""
    version = _tool_version(backend)
    digest = hashlib.blake2b("\n".join(words).encode("utf-8"), digest_size=8).hexdigest()
    tag = f"{backend}-{voice}" if backend == "espeak" else backend
    header = f"# {_CACHE_FORMAT} backend={tag} tool={version!r} words={len(words)} digest={digest}"
    if source is not None:
        path = derived_path(source, f".{tag}.g2p.tsv")
    else:
        path = user_cache_dir() / "g2p" / f"{digest}.{tag}.g2p.tsv"
    if use_cache and path.is_file():
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[0] == header:
            table = dict(line.split("\t", 1) for line in lines[1:] if "\t" in line)
            if all(w in table for w in words):
                if progress is not None:
                    progress(backend, len(words), len(words))
                return [table[w] for w in words], path
    if backend == "espeak":
        raw = []
        for start in range(0, len(words), _ESPEAK_CHUNK):
            raw.extend(espeak_ipa(words[start : start + _ESPEAK_CHUNK], voice=voice))
            if progress is not None:
                progress(backend, len(raw), len(words))
    else:
        raw = hama_pronunciations(words, progress=(lambda d, t: progress(backend, d, t)) if progress else None)
    if not use_cache:
        return raw, None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(header + "\n" + "".join(f"{w}\t{p}\n" for w, p in zip(words, raw)), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        return raw, None
    return raw, path
