"""ctcdecode_kit.lexicon: reading, building and resolving pronunciation lexicons."""

from __future__ import annotations

import dataclasses

import pytest

from ctcdecode_kit import Vocabulary
from ctcdecode_kit.errors import FileFormatError, MissingFileError, VocabularyError
from ctcdecode_kit.lexicon import Lexicon, as_lexicon

WAV2VEC2_LIKE = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "H", "'"]


def test_torchaudio_lexicon_file_reads_with_its_delimiter(shared):
    lex = Lexicon.from_file(shared.path("torchaudio/lexicon.txt"))
    assert lex.words == ("foo", "bar", "foobar")
    assert lex.pronunciations("foo") == (("f", "o", "o", "|"),)
    assert lex.lines == (1, 2, 3)
    tokens = shared.path("torchaudio/tokens.txt").read_text().split()
    vocab = Vocabulary.from_labels(tokens, blank="-", word_delimiter="|")
    words, prons = lex.resolve(vocab)
    assert words == ("foo", "bar", "foobar")
    f, o, b, a, r = (tokens.index(c) for c in "fobar")
    assert prons == ((0, (f, o, o)), (1, (b, a, r)), (2, (f, o, o, b, a, r)))


def test_words_lst_maps_to_an_uppercase_vocabulary(shared):
    lex = Lexicon.from_file(shared.path("librispeech-lm/words.lst"))
    assert len(lex) > 20000 and "contrivance" not in lex
    vocab = shared.wav2vec2_vocab()
    words, prons = lex.resolve(vocab)
    assert words[:3] == ("I", "YOU", "AND")  # spelled in the vocabulary's case, so output in it too
    assert vocab.text(list(prons[1][1])) == "YOU"


def test_from_words_spells_in_the_vocabulary_case_and_reports_what_it_cannot():
    vocab = Vocabulary.from_labels(WAV2VEC2_LIKE)
    lex = Lexicon.from_words(["the", "hat", "oath's", "xyz", "THE"], vocab, skip_unspellable=True)
    assert lex.entries == (("THE", ("T", "H", "E")), ("HAT", ("H", "A", "T")))
    assert lex.skipped == ("oath's", "xyz")  # no 'S' and no 'X' in this vocabulary; THE only once
    assert lex.words == ("THE", "HAT")
    with pytest.raises(VocabularyError, match="cannot spell 'X'"):
        Lexicon.from_words(["xyz"], vocab)


def test_several_pronunciations_and_dict_input():
    lex = Lexicon.from_dict({"read": ["r iː d", ["r", "ɛ", "d", "<wb>"]], "red": ["r ɛ d"]})
    assert len(lex) == 2 and len(lex.entries) == 3
    vocab = Vocabulary.from_labels(["<pad>", "r", "iː", "ɛ", "d", "<wb>", "<blank>"], blank="<blank>", word_delimiter="<wb>")
    words, prons = lex.resolve(vocab)
    assert words == ("read", "red")
    assert prons == ((0, (1, 2, 4)), (0, (1, 3, 4)), (1, (1, 3, 4)))  # a homophone keeps its own word index


def test_bad_lines_name_the_file_and_line(tmp_path):
    path = tmp_path / "lex.txt"
    path.write_text("a a\nb\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"lex\.txt', line 2: 'b' has no tokens"):
        Lexicon.from_file(path)
    path.write_text("ab a | b\n", encoding="utf-8")
    vocab = Vocabulary.from_labels(["-", "|", "a", "b"], blank="-")
    with pytest.raises(VocabularyError, match=r"line 1 \('ab'\): the word delimiter token '\|' may only end"):
        Lexicon.from_file(path).resolve(vocab)
    with pytest.raises(MissingFileError, match="does not exist"):
        Lexicon.from_file(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(FileFormatError, match="holds no entries"):
        Lexicon.from_file(tmp_path / "empty.txt")
    with pytest.raises(VocabularyError, match=r"lexicon entry 'q': token 'q'"):
        Lexicon.from_dict({"q": ["q"]}).resolve(vocab)


def test_lexicon_is_frozen_and_round_trips_through_a_file(tmp_path):
    lex = Lexicon.from_dict({"ab": ["a b |"], "ba": ["b a"]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        lex.entries = ()  # type: ignore[misc]
    again = Lexicon.from_file(lex.save(tmp_path / "l.txt"))
    assert again.entries == lex.entries
    assert as_lexicon(tmp_path / "l.txt").entries == lex.entries and as_lexicon(lex) is lex
