"""Vocabulary parsing, role detection, overrides, text and word segmentation."""

from __future__ import annotations

import json

import pytest

from ctcdecode_kit import Vocabulary
from ctcdecode_kit.errors import FileFormatError, MissingFileError, VocabularyError

W2V = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A"]


def test_from_labels_detects_wav2vec2_blank_delimiter_and_specials():
    v = Vocabulary.from_labels(W2V)
    assert (v.blank, v.word_delimiter, v.special) == (0, 4, frozenset({1, 2, 3}))


def test_from_labels_accepts_pyctcdecode_style_blank_last_and_space_delimiter():
    v = Vocabulary.from_labels([" ", "a", "b", ""])
    assert (v.blank, v.word_delimiter) == (3, 0)


def test_blank_and_delimiter_can_be_overridden_by_token_or_index():
    v = Vocabulary.from_labels(["-", "|", "f", "o"], blank="-")
    assert v.blank == 0
    v2 = Vocabulary.from_labels(["x", "y", "z"], blank=2, word_delimiter=None)
    assert (v2.blank, v2.word_delimiter) == (2, None)


def test_missing_blank_is_refused_with_hint():
    with pytest.raises(VocabularyError, match="pass blank="):
        Vocabulary.from_labels(["a", "b", "|"])


def test_duplicate_labels_are_refused_naming_both_ids():
    with pytest.raises(VocabularyError, match=r"'a' appears twice \(ids 1 and 2\)"):
        Vocabulary.from_labels(["<pad>", "a", "a"])


def test_blank_equal_to_delimiter_is_refused():
    with pytest.raises(VocabularyError, match="different"):
        Vocabulary.from_labels(["<pad>", "a"], blank=1, word_delimiter=1)


def test_from_file_reads_hf_vocab_json(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({t: i for i, t in enumerate(W2V)}))
    assert Vocabulary.from_file(path).tokens == tuple(W2V)


def test_from_file_reads_real_wav2vec2_vocab(shared):
    v = shared.wav2vec2_vocab()
    assert len(v) == 32 and v.tokens[v.blank] == "<pad>" and v.tokens[v.word_delimiter] == "|"
    assert v.letter_case == "upper"


def test_from_file_reads_tokens_txt_with_dash_blank(shared):
    v = Vocabulary.from_file(shared.path("torchaudio/tokens.txt"), blank="-")
    assert v.tokens == ("-", "|", "f", "o", "b", "a", "r")
    assert (v.blank, v.word_delimiter) == (0, 1)


def test_from_file_reads_token_id_columns(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("<blank> 0\n| 1\na 2\n")
    assert Vocabulary.from_file(path).tokens == ("<blank>", "|", "a")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "is empty"),
        ("{not json", "not valid JSON"),
        ('{"<pad>": 0, "a": 5}', "ids must be the integers 0..1"),
        ('{"<pad>": 0, "a": 0}', "id 0 is used by both"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_from_file_refuses_bad_json_with_file_name(tmp_path, content, message):
    path = tmp_path / "vocab.json"
    path.write_text(content)
    with pytest.raises(FileFormatError, match=message) as info:
        Vocabulary.from_file(path)
    assert "vocab.json" in str(info.value)


def test_from_file_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(MissingFileError, match="nope.json"):
        Vocabulary.from_file(tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError):
        Vocabulary.from_file(tmp_path / "nope.json")


def test_from_file_refuses_non_utf8(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_bytes(b"<pad>\n\xff\xfe\n")
    with pytest.raises(FileFormatError, match="not valid UTF-8"):
        Vocabulary.from_file(path)


def test_from_file_refuses_empty_lines_in_tokens_txt(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("<pad>\n\na\n")
    with pytest.raises(FileFormatError, match="empty lines"):
        Vocabulary.from_file(path)


def test_from_pretrained_reads_a_saved_hf_tokenizer(tmp_path, shared):
    from transformers import Wav2Vec2CTCTokenizer

    tok = Wav2Vec2CTCTokenizer(str(shared.path("wav2vec2-logits/vocab.json")))
    tok.save_pretrained(tmp_path)
    v = Vocabulary.from_pretrained(tmp_path)
    assert v == shared.wav2vec2_vocab()


def test_from_pretrained_on_a_folder_without_tokenizer_names_it(tmp_path):
    with pytest.raises(VocabularyError, match=str(tmp_path)):
        Vocabulary.from_pretrained(tmp_path)


def test_text_drops_blank_specials_and_splits_on_delimiter():
    v = Vocabulary.from_labels(W2V)
    assert v.text([1, 7, 4, 4, 3, 6, 5, 2, 4]) == "A TE"


def test_words_carry_frame_spans_and_seconds():
    v = Vocabulary.from_labels(W2V)
    words = v.words([7, 4, 6, 5], [2, 5, 8, 10], [4, 6, 9, 12], frame_rate=50)
    assert [(w.text, w.start_frame, w.end_frame, w.start_time, w.end_time) for w in words] == [
        ("A", 2, 4, 0.04, 0.08),
        ("TE", 8, 12, 0.16, 0.24),
    ]


def test_sentencepiece_prefix_vocab_splits_words_on_prefix_mark():
    v = Vocabulary.from_labels(["<blank>", "\u2581the", "\u2581c", "at", "s"])
    assert v.word_prefix and v.word_delimiter is None
    assert v.text([1, 2, 3, 4]) == "the cats"
    assert v.encode("the cats") == [1, 2, 3, 4]


def test_encode_is_inverse_of_text():
    v = Vocabulary.from_labels(W2V)
    ids = v.encode("TEA AT")
    assert v.text(ids) == "TEA AT" and ids == [6, 5, 7, 4, 7, 6]


def test_encode_names_a_character_it_cannot_spell():
    with pytest.raises(VocabularyError, match="cannot spell 'Q'"):
        Vocabulary.from_labels(W2V).encode("QAT")
