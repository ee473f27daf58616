"""Pronunciation lexicons: which token sequences spell which words.

A :class:`Lexicon` is an immutable list of ``(word, tokens)`` pronunciations, several per
word allowed. It is read from a file in flashlight's / torchaudio's format, one
pronunciation per line::

    foo f o o |
    bar b a r |
    read r iː d <wb>
    read r ɛ d <wb>

(the word, then its tokens separated by whitespace; a trailing word-delimiter token is
optional and dropped), built from a ``dict[str, list[list[str]]]``, or spelled from a word
list with a character vocabulary (:meth:`Lexicon.from_words`). The native decoder takes it
as ``lexicon=`` and then only outputs its words (see README "Lexicon-constrained decoding").

Tokens are matched against a vocabulary by :meth:`Lexicon.resolve`: letters are mapped to
the vocabulary's letter case the way language-model words are (``lm.casing``), so
LibriSpeech's lowercase ``words.lst`` serves an UPPERCASE wav2vec2 vocabulary, and a word
whose spelling was mapped is output in the vocabulary's case too. A token the vocabulary
lacks is an error naming the file and line.

Example:
    >>> from ctcdecode_kit import Vocabulary
    >>> from ctcdecode_kit.lexicon import Lexicon
    >>> lex = Lexicon.from_dict({"foo": [["f", "o", "o"]], "bar": [["b", "a", "r", "|"]]})
    >>> len(lex), lex.pronunciations("bar")
    (2, (('b', 'a', 'r', '|'),))
    >>> vocab = Vocabulary.from_labels(["-", "|", "F", "O", "B", "A", "R"], blank="-")
    >>> words, prons = lex.resolve(vocab)
    >>> words, prons
    (('FOO', 'BAR'), ((0, (2, 3, 3)), (1, (4, 5, 6))))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import FileFormatError, VocabularyError
from .inputs import read_text_file

__all__ = ["Lexicon", "as_lexicon"]

_CASE_MAPS = {"upper": str.upper, "lower": str.lower}


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Pronunciations ``(word, tokens)``, in the order they were given. Build it with a ``from_*`` classmethod.

    Attributes:
        entries: one ``(word, tokens)`` per pronunciation (a word may have several).
        source: the file it was read from (None when built in memory); errors name it.
        lines: the 1-based line of each entry in ``source`` (empty when built in memory).
        skipped: words :meth:`from_words` could not spell and left out.
    """

    entries: tuple[tuple[str, tuple[str, ...]], ...]
    source: str | None = None
    lines: tuple[int, ...] = ()
    skipped: tuple[str, ...] = ()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_file(cls, path: str | Path) -> Lexicon:
        """Read a lexicon file: ``word tok tok ...`` per line (flashlight / torchaudio format).

        Blank lines are skipped; a word with no tokens is a :class:`FileFormatError` naming the line.

        Example:
            >>> lex = Lexicon.from_file("../shared/data/torchaudio/lexicon.txt")  # doctest: +SKIP
            >>> lex.words                                                        # doctest: +SKIP
            ('foo', 'bar', 'foobar')
        """
        path = Path(path)
        text = read_text_file(path, "lexicon file")
        entries: list[tuple[str, tuple[str, ...]]] = []
        lines: list[int] = []
        for number, line in enumerate(text.splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) == 1:
                raise FileFormatError(
                    f"lexicon file {str(path)!r}, line {number}: {parts[0]!r} has no tokens; "
                    f"expected 'word token token ...'"
                )
            entries.append((parts[0], tuple(parts[1:])))
            lines.append(number)
        if not entries:
            raise FileFormatError(f"lexicon file {str(path)!r} holds no entries")
        return cls(tuple(entries), str(path), tuple(lines))

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Iterable[Sequence[str] | str]]) -> Lexicon:
        """Build from ``{word: [pronunciation, ...]}``; a pronunciation is a token list or a space-separated string.

        Example:
            >>> Lexicon.from_dict({"hi": ["h i", ["h", "aɪ"]]}).entries
            (('hi', ('h', 'i')), ('hi', ('h', 'aɪ')))
        """
        if not isinstance(mapping, Mapping):
            raise VocabularyError(f"a lexicon dict must map word -> list of pronunciations, got {type(mapping).__name__}")
        entries: list[tuple[str, tuple[str, ...]]] = []
        for word, prons in mapping.items():
            if not isinstance(word, str) or not word.strip() or len(word.split()) != 1:
                raise VocabularyError(f"lexicon word {word!r} must be a non-empty string without spaces")
            if isinstance(prons, str) or not isinstance(prons, Iterable):
                raise VocabularyError(
                    f"lexicon entry {word!r}: expected a list of pronunciations (token lists), got {prons!r}"
                )
            count = 0
            for pron in prons:
                tokens = tuple(pron.split()) if isinstance(pron, str) else tuple(pron)
                if not tokens or not all(isinstance(t, str) and t and not t.isspace() for t in tokens):
                    raise VocabularyError(
                        f"lexicon entry {word!r}: pronunciation {pron!r} must be a non-empty list of token strings"
                    )
                entries.append((word, tokens))
                count += 1
            if count == 0:
                raise VocabularyError(f"lexicon entry {word!r} has no pronunciation")
        if not entries:
            raise VocabularyError("the lexicon dict is empty")
        return cls(tuple(entries))

    @classmethod
    def from_words(cls, words: Iterable[str], vocabulary: object, *, skip_unspellable: bool = False) -> Lexicon:
        """Spell each word with a character (or subword) vocabulary: the lexicon of a word list.

        Words are mapped to the vocabulary's letter case first (as LM words are), then spelled
        longest token first (:meth:`Vocabulary.encode`). A word the vocabulary cannot spell
        raises :class:`VocabularyError`, or with ``skip_unspellable`` is left out and listed in
        :attr:`skipped`.

        Example:
            >>> from ctcdecode_kit import Vocabulary
            >>> vocab = Vocabulary.from_labels(["<pad>", "|", "C", "A", "T"])
            >>> lex = Lexicon.from_words(["cat", "act", "dog"], vocab, skip_unspellable=True)
            >>> lex.entries, lex.skipped
            ((('CAT', ('C', 'A', 'T')), ('ACT', ('A', 'C', 'T'))), ('dog',))
        """
        from .vocabulary import Vocabulary

        if not isinstance(vocabulary, Vocabulary):
            raise VocabularyError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
        if isinstance(words, str):
            raise VocabularyError("words must be an iterable of words, not a single string")
        mapper = _CASE_MAPS.get(vocabulary.letter_case)
        entries: list[tuple[str, tuple[str, ...]]] = []
        skipped: list[str] = []
        seen: set[str] = set()
        for raw in words:
            if not isinstance(raw, str) or len(raw.split()) != 1:
                raise VocabularyError(f"lexicon word {raw!r} must be a non-empty string without spaces")
            word = mapper(raw) if mapper is not None else raw
            if word in seen:
                continue
            try:
                ids = vocabulary.encode(word)
            except VocabularyError:
                if not skip_unspellable:
                    raise
                skipped.append(raw)
                continue
            seen.add(word)
            entries.append((word, tuple(vocabulary.tokens[i] for i in ids)))
        if not entries:
            raise VocabularyError("none of the words can be spelled with this vocabulary")
        return cls(tuple(entries), skipped=tuple(skipped))

    # ------------------------------------------------------------------ views
    @property
    def words(self) -> tuple[str, ...]:
        """The distinct words, in first-seen order."""
        return tuple(dict.fromkeys(word for word, _ in self.entries))

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return any(word == w for w, _ in self.entries)

    def pronunciations(self, word: str) -> tuple[tuple[str, ...], ...]:
        """Every pronunciation of ``word`` (empty when it is not in the lexicon)."""
        return tuple(tokens for w, tokens in self.entries if w == word)

    def save(self, path: str | Path) -> Path:
        """Write the lexicon in the file format :meth:`from_file` reads; returns the path.

        Example:
            >>> import tempfile, os
            >>> p = Lexicon.from_dict({"ab": ["a b"]}).save(os.path.join(tempfile.mkdtemp(), "lex.txt"))
            >>> p.read_text()
            'ab a b\\n'
        """
        path = Path(path)
        path.write_text("".join(f"{w} {' '.join(t)}\n" for w, t in self.entries), encoding="utf-8")
        return path

    def _where(self, index: int) -> str:
        word = self.entries[index][0]
        if self.source is not None and self.lines:
            return f"lexicon file {self.source!r}, line {self.lines[index]} ({word!r})"
        return f"lexicon entry {word!r}"

    # ------------------------------------------------------------------ matching a vocabulary
    def resolve(self, vocabulary: object) -> tuple[tuple[str, ...], tuple[tuple[int, tuple[int, ...]], ...]]:
        """The words as output (in the vocabulary's case when their spelling was mapped) and each
        pronunciation as ``(word index, token ids)``.

        A trailing word-delimiter token is dropped; a delimiter or blank elsewhere, or a token the
        vocabulary lacks (after case mapping), raises :class:`VocabularyError` naming the line.
        """
        from .vocabulary import Vocabulary

        if not isinstance(vocabulary, Vocabulary):
            raise VocabularyError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
        lookup = {token: i for i, token in enumerate(vocabulary.tokens)}
        mapper = _CASE_MAPS.get(vocabulary.letter_case)
        delimiter, blank = vocabulary.word_delimiter, vocabulary.blank
        words: dict[str, int] = {}
        prons: dict[tuple[int, tuple[int, ...]], None] = {}
        for index, (word, tokens) in enumerate(self.entries):
            ids: list[int] = []
            mapped = False
            for token in tokens:
                token_id = lookup.get(token)
                if token_id is None and mapper is not None:
                    token_id = lookup.get(mapper(token))
                    mapped = token_id is not None
                if token_id is None:
                    raise VocabularyError(
                        f"{self._where(index)}: token {token!r} is not in the vocabulary "
                        f"(tokens: {' '.join(vocabulary.tokens[:60])})"
                    )
                ids.append(token_id)
            if ids and ids[-1] == delimiter:
                ids.pop()
            if not ids:
                raise VocabularyError(f"{self._where(index)}: the pronunciation has no tokens besides the delimiter")
            if delimiter in ids or blank in ids:
                what = "word delimiter" if delimiter in ids else "blank"
                raise VocabularyError(
                    f"{self._where(index)}: the {what} token {vocabulary.tokens[delimiter if delimiter in ids else blank]!r} "
                    f"may only end a pronunciation"
                )
            out = mapper(word) if mapped and mapper is not None else word
            word_index = words.setdefault(out, len(words))
            prons[(word_index, tuple(ids))] = None
        return tuple(words), tuple(prons)


def as_lexicon(value: object) -> Lexicon:
    """A :class:`Lexicon` from a path (str or Path), a ``dict`` or a Lexicon (returned as is).

    Example:
        >>> as_lexicon({"a": ["a"]}).entries
        (('a', ('a',)),)
    """
    if isinstance(value, Lexicon):
        return value
    if isinstance(value, (str, Path)):
        return Lexicon.from_file(value)
    if isinstance(value, Mapping):
        return Lexicon.from_dict(value)
    raise VocabularyError(
        f"lexicon must be a path to a lexicon file, a dict word -> pronunciations or a Lexicon, got {type(value).__name__}"
    )
