"""The CTC output vocabulary: tokens, the blank, the word delimiter and special tokens.

A :class:`Vocabulary` is built by a classmethod that checks and normalises everything
(``from_labels``, ``from_file``, ``from_pretrained``); ``__init__`` only stores. The
defaults follow wav2vec2: ``<pad>`` is the CTC blank and ``|`` the word delimiter.
Every guess can be overridden by name or index.

Example:
    >>> from ctcdecode_kit import Vocabulary
    >>> vocab = Vocabulary.from_labels(["<pad>", "<s>", "</s>", "<unk>", "|", "A", "B"])
    >>> vocab.blank, vocab.word_delimiter, len(vocab)
    (0, 4, 7)
    >>> vocab.text([5, 4, 6, 6, 3])      # special tokens never reach the text
    'A BB'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .errors import FileFormatError, VocabularyError
from .hypothesis import Word
from .inputs import read_text_file

__all__ = ["AUTO", "Vocabulary"]


class _Auto(Enum):
    AUTO = "auto"

    def __repr__(self) -> str:
        return "AUTO"


AUTO = _Auto.AUTO
"""Sentinel: let the constructor detect the blank / word delimiter."""

_BLANK_CANDIDATES = ("<pad>", "<blank>", "[PAD]", "[pad]", "<b>", "<eps>", "")
_DELIMITER_CANDIDATES = ("|", " ", "<space>")  # <space>: ESPnet / k2 token lists
_SPECIAL_PATTERN = re.compile(r"^(<[^<>]+>|\[[A-Za-z_]+\])$")
_PREFIX_MARK = "\u2581"  # SentencePiece word-start mark


def _resolve(
    tokens: Sequence[str], value: int | str | None | _Auto, candidates: Sequence[str], what: str
) -> int | None:
    if value is None:
        return None
    if value is AUTO:
        for candidate in candidates:
            if candidate in tokens:
                return tokens.index(candidate)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise VocabularyError(f"{what} must be a token string or an index, got {value!r}")
    if isinstance(value, int):
        if not -len(tokens) <= value < len(tokens):
            raise VocabularyError(
                f"{what} index {value} is out of range for a vocabulary of {len(tokens)} tokens"
            )
        return value % len(tokens)
    if value not in tokens:
        raise VocabularyError(f"{what} token {value!r} is not in the vocabulary {list(tokens)[:40]}")
    return tokens.index(value)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Token list plus the roles of its tokens. Build it with a ``from_*`` classmethod.

    Attributes:
        tokens: the label of each output class, indexed by class id.
        blank: id of the CTC blank.
        word_delimiter: id of the token that separates words (``|`` in wav2vec2), or
            None for vocabularies without one (SentencePiece ``▁`` prefixes are then
            used as word starts when present).
        special: ids of tokens that never appear in text (``<s>``, ``</s>``, ``<unk>``...).
    """

    tokens: tuple[str, ...]
    blank: int
    word_delimiter: int | None
    special: frozenset[int]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_labels(
        cls,
        labels: Iterable[str],
        *,
        blank: int | str | _Auto = AUTO,
        word_delimiter: int | str | None | _Auto = AUTO,
        special: Iterable[str] | _Auto = AUTO,
    ) -> Vocabulary:
        """Build a vocabulary from labels indexed by class id.

        ``blank`` defaults to the first of ``<pad>``, ``<blank>``, ``[PAD]``, ``<b>``,
        ``<eps>`` or the empty string found; ``word_delimiter`` to ``|``, ``" "`` or
        ESPnet's ``<space>`` (None: no delimiter). ``special`` defaults to every other ``<...>`` or ``[...]``
        token and every other whitespace-only token.

        Phoneme vocabularies name their roles explicitly; multi-character tokens spell as they are:
            >>> p = Vocabulary.from_labels(["<pad>", " ", "h", "ə", "oʊ", "<wb>", "<blank>"], blank="<blank>", word_delimiter="<wb>")
            >>> p.blank, p.word_delimiter, sorted(p.special), p.text([2, 3, 4, 5, 4])
            (6, 5, [0, 1], 'həoʊ oʊ')

        Example:
            >>> v = Vocabulary.from_labels([" ", "a", "b", ""])   # pyctcdecode style, blank last
            >>> v.blank, v.word_delimiter
            (3, 0)
        """
        if isinstance(labels, (str, bytes)):
            raise VocabularyError("labels must be a sequence of token strings, not a single string")
        tokens = tuple(labels)
        if not tokens:
            raise VocabularyError("labels is empty: a vocabulary needs at least a blank and one token")
        for i, token in enumerate(tokens):
            if not isinstance(token, str):
                raise VocabularyError(f"label {i} is {token!r}; every label must be a str")
        seen: dict[str, int] = {}
        for i, token in enumerate(tokens):
            if token in seen:
                raise VocabularyError(
                    f"label {token!r} appears twice (ids {seen[token]} and {i}); labels must be unique"
                )
            seen[token] = i
        blank_id = _resolve(tokens, blank, _BLANK_CANDIDATES, "blank")
        if blank_id is None:
            raise VocabularyError(
                "no CTC blank found among the labels (looked for "
                f"{', '.join(repr(c) for c in _BLANK_CANDIDATES)}); pass blank=<token or index>"
            )
        delim_id = _resolve(tokens, word_delimiter, _DELIMITER_CANDIDATES, "word_delimiter")
        if delim_id == blank_id:
            raise VocabularyError("the word delimiter and the blank must be different tokens")
        if special is AUTO:
            # a whitespace token that is not the delimiter (hama's ' ' beside its '<wb>') cannot be
            # part of a word either
            special_ids = {
                i
                for i, t in enumerate(tokens)
                if (_SPECIAL_PATTERN.match(t) or (t and t.isspace())) and i not in (blank_id, delim_id)
            }
        else:
            special_ids = set()
            for token in special:
                if token not in seen:
                    raise VocabularyError(f"special token {token!r} is not in the vocabulary")
                special_ids.add(seen[token])
        special_ids.discard(blank_id)
        return cls(tokens, blank_id, delim_id, frozenset(special_ids))

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        blank: int | str | _Auto = AUTO,
        word_delimiter: int | str | None | _Auto = AUTO,
    ) -> Vocabulary:
        """Read a vocabulary from an HF ``vocab.json`` (token -> id) or a ``tokens.txt``.

        A ``.json`` file must map every id 0..V-1 exactly once. Any other file is read as
        one token per line (a trailing ``<TAB>id`` or `` id`` column, as Kaldi/torchaudio
        token lists have, is accepted when every line has it).

        Example:
            >>> v = Vocabulary.from_file("../shared/data/wav2vec2-logits/vocab.json")  # doctest: +SKIP
            >>> len(v), v.tokens[v.blank], v.tokens[v.word_delimiter]                   # doctest: +SKIP
            (32, '<pad>', '|')
        """
        path = Path(path)
        text = read_text_file(path, "vocabulary file")
        if not text.strip():
            raise FileFormatError(f"vocabulary file {str(path)!r} is empty")
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            labels = _labels_from_json(text, path)
        else:
            labels = _labels_from_lines(text, path)
        try:
            return cls.from_labels(labels, blank=blank, word_delimiter=word_delimiter)
        except VocabularyError as exc:
            raise VocabularyError(f"vocabulary file {str(path)!r}: {exc}") from None

    @classmethod
    def from_pretrained(
        cls,
        name_or_dir: str | Path,
        *,
        blank: int | str | _Auto = AUTO,
        word_delimiter: int | str | None | _Auto = AUTO,
    ) -> Vocabulary:
        """Read the vocabulary of a Hugging Face CTC model's tokenizer.

        ``name_or_dir`` is a hub id (``facebook/wav2vec2-base-960h``, needs the network
        the first time) or a local folder written by ``save_pretrained``. The tokenizer's
        pad token is the blank and its ``word_delimiter_token`` the delimiter unless
        overridden.

        Example:
            >>> Vocabulary.from_pretrained("facebook/wav2vec2-base-960h").tokens[:5]  # doctest: +SKIP
            ('<pad>', '<s>', '</s>', '<unk>', '|')
        """
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(name_or_dir))
        except (OSError, ValueError, KeyError) as exc:
            raise VocabularyError(
                f"could not load a tokenizer from {str(name_or_dir)!r}: it must be a hub model id "
                f"or a folder saved with save_pretrained that holds vocab.json and tokenizer_config.json "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            ) from exc
        return cls.from_tokenizer(tokenizer, blank=blank, word_delimiter=word_delimiter)

    @classmethod
    def from_tokenizer(
        cls,
        tokenizer: object,
        *,
        blank: int | str | _Auto = AUTO,
        word_delimiter: int | str | None | _Auto = AUTO,
    ) -> Vocabulary:
        """Build from an already loaded HF tokenizer (e.g. ``processor.tokenizer``)."""
        vocab = tokenizer.get_vocab()  # type: ignore[attr-defined]
        by_id = sorted(vocab.items(), key=lambda kv: kv[1])
        size = max(vocab.values()) + 1
        labels = [""] * size
        for token, idx in by_id:
            labels[idx] = token
        if any(label == "" for label in labels) and "" not in vocab:
            raise VocabularyError(f"tokenizer vocabulary has gaps in its ids (size {size}, {len(vocab)} tokens)")
        if blank is AUTO and getattr(tokenizer, "pad_token", None) in vocab:
            blank = tokenizer.pad_token  # type: ignore[attr-defined]
        if word_delimiter is AUTO:
            delim = getattr(tokenizer, "word_delimiter_token", None)
            if delim in vocab:
                word_delimiter = delim
        return cls.from_labels(labels, blank=blank, word_delimiter=word_delimiter)

    # ------------------------------------------------------------------ properties
    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def word_prefix(self) -> bool:
        """True for SentencePiece-style vocabularies (no delimiter, ``▁`` starts a word)."""
        return self.word_delimiter is None and any(t.startswith(_PREFIX_MARK) for t in self.tokens)

    @property
    def has_word_boundaries(self) -> bool:
        """Whether words can be told apart (a delimiter token or ``▁`` prefixes)."""
        return self.word_delimiter is not None or self.word_prefix

    @property
    def letter_case(self) -> str:
        """``"upper"``, ``"lower"`` or ``"mixed"``: the case of the alphabetic tokens."""
        letters = [
            t for i, t in enumerate(self.tokens) if i not in self.special and i != self.blank and t.isalpha()
        ]
        if letters and all(t.isupper() for t in letters):
            return "upper"
        if letters and all(t.islower() for t in letters):
            return "lower"
        return "mixed"

    def to_dict(self) -> dict:
        """JSON-ready description (used in results files)."""
        return {
            "tokens": list(self.tokens),
            "blank": self.blank,
            "word_delimiter": self.word_delimiter,
            "special": sorted(self.special),
        }

    # ------------------------------------------------------------------ text
    def words(
        self,
        ids: Sequence[int],
        start_frames: Sequence[int] | None = None,
        end_frames: Sequence[int] | None = None,
        frame_rate: float | None = None,
    ) -> list[Word]:
        """Split collapsed token ids into words with their frame spans.

        ``start_frames[i]``/``end_frames[i]`` give the half-open frame span of token i;
        without them every frame is -1. Blank and special tokens are dropped.

        Example:
            >>> v = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
            >>> [(w.text, w.start_frame, w.end_frame) for w in v.words([2, 1, 3, 3], [0, 2, 4, 6], [1, 3, 5, 8])]
            [('A', 0, 1), ('BB', 4, 8)]
        """
        result: list[Word] = []
        current: list[str] = []
        start = end = -1
        delim, blank, special, prefix = self.word_delimiter, self.blank, self.special, self.word_prefix

        def flush() -> None:
            if current:
                word = Word("".join(current), int(start), int(end))
                result.append(word.with_frame_rate(frame_rate) if start >= 0 else word)
                current.clear()

        for i, token_id in enumerate(ids):
            if token_id == blank or token_id in special:
                continue
            if token_id == delim:
                flush()
                continue
            piece = self.tokens[token_id]
            if prefix and piece.startswith(_PREFIX_MARK):
                flush()
                piece = piece[1:]
                if not piece:
                    continue
            if not current:
                start = start_frames[i] if start_frames is not None else -1
            current.append(piece)
            end = end_frames[i] if end_frames is not None else -1
        flush()
        return result

    def text(self, ids: Sequence[int]) -> str:
        """The text of collapsed token ids: words joined by single spaces.

        Example:
            >>> Vocabulary.from_labels(["<pad>", "|", "A", "B"]).text([1, 2, 1, 1, 3, 1])
            'A B'
        """
        return " ".join(w.text for w in self.words(ids))

    def encode(self, text: str) -> list[int]:
        """Token ids spelling ``text`` (longest match first; spaces become delimiters).

        The inverse of :meth:`text` for text the vocabulary can spell; raises
        :class:`VocabularyError` naming the first character it cannot.

        Example:
            >>> v = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
            >>> v.encode("AB A")
            [2, 3, 1, 2]
        """
        skip = self.special | {self.blank} | ({self.word_delimiter} if self.word_delimiter is not None else set())
        lookup = {t: i for i, t in enumerate(self.tokens) if i not in skip and t}
        max_len = max((len(t) for t in lookup), default=1)
        ids: list[int] = []
        for n, word in enumerate(text.split()):
            if n and self.word_delimiter is not None:
                ids.append(self.word_delimiter)
            if self.word_prefix:
                word = _PREFIX_MARK + word
            pos = 0
            while pos < len(word):
                for size in range(min(max_len, len(word) - pos), 0, -1):
                    piece = word[pos : pos + size]
                    if piece in lookup:
                        ids.append(lookup[piece])
                        pos += size
                        break
                else:
                    raise VocabularyError(
                        f"cannot spell {word[pos]!r} (in {text!r}) with this vocabulary's tokens"
                    )
        return ids


def _labels_from_json(text: str, path: Path) -> list[str]:
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"vocabulary file {str(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(mapping, dict) or not mapping:
        raise FileFormatError(f"vocabulary file {str(path)!r} must hold a JSON object mapping token -> id")
    if all(isinstance(v, dict) for v in mapping.values()) and len(mapping) == 1:
        # multilingual HF vocab.json: {"en": {...}}
        mapping = next(iter(mapping.values()))
    size = len(mapping)
    labels: list[str | None] = [None] * size
    for token, idx in mapping.items():
        if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx < size:
            raise FileFormatError(
                f"vocabulary file {str(path)!r}: token {token!r} has id {idx!r}; ids must be the "
                f"integers 0..{size - 1}"
            )
        if labels[idx] is not None:
            raise FileFormatError(
                f"vocabulary file {str(path)!r}: id {idx} is used by both {labels[idx]!r} and {token!r}"
            )
        labels[idx] = token
    return [label for label in labels if label is not None]


def _labels_from_lines(text: str, path: Path) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    if any(line == "" for line in lines):
        empty = [i + 1 for i, line in enumerate(lines) if line == ""]
        raise FileFormatError(
            f"vocabulary file {str(path)!r} has empty lines ({empty[:5]}); write one token per line"
        )
    # "token<TAB>id" / "token id" columns, when every line has an integer last column
    split = [line.rsplit(None, 1) if len(line.split()) == 2 else None for line in lines]
    if all(parts is not None and parts[1].lstrip("-").isdigit() for parts in split):
        return [parts[0] for parts in split]  # type: ignore[index]
    return lines
