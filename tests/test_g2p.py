"""The lexicon builder: espeak-ng / hama G2P, mapping onto a phoneme inventory, cache, CLI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ctcdecode_kit import Vocabulary
from ctcdecode_kit.errors import VocabularyError
from ctcdecode_kit.g2p import PhonemeMapper, build_lexicon, read_word_list
from ctcdecode_kit.lexicon import Lexicon
from tests.conftest import require_module, skip_or_fail

# a hama-like inventory: multi-character tokens, Korean glide digraphs, blank last, <wb> delimiter
PHONEMES = (
    "<pad> <unk> a aɪ aʊ b d d͡ʒ eɪ f g h i j ju ja wa we k l m n oʊ p s t t͡ʃ u v w z ð θ ʃ ʒ ŋ "
    "æ ɑ ɔ ə ɛ ɪ ʊ ʌ ɝ ɹ"
).split()
LABELS = [*PHONEMES, "<wb>", "<blank>"]


def vocabulary(without: str = "") -> Vocabulary:
    return Vocabulary.from_labels([t for t in LABELS if t != without], blank="<blank>", word_delimiter="<wb>")


def needs_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        skip_or_fail("espeak-ng is not installed (apt-get install espeak-ng)")


# ---------------------------------------------------------------------------- mapping rules (no tools)
@pytest.mark.parametrize(
    ("ipa", "tokens"),
    [
        ("tʃˈɜːtʃ", "t͡ʃ ɝ t͡ʃ"),  # tie bars added, r-coloured vowel, length mark dropped
        ("ɡˈɑːd", "g ɑ d"),  # script g -> g
        ("ˈæftɚ", "æ f t ɝ"),
        ("kˈɑːʔn̩", "k ɑ t ə n"),  # glottal stop + syllabic n
        ("wˈeɪ", "w eɪ"),  # longest match, stress mark is a boundary
        ("juː", "j u"),  # glide digraphs (ju, wa, ...) are never used
        ("wˈɔːɹɾɚ", "w ɔ ɹ t ɝ"),  # flap -> t
        ("dᵻsˈɛnt", "d ɪ s ɛ n t"),
    ],
)
def test_espeak_ipa_maps_onto_the_inventory_by_the_documented_rules(ipa, tokens):
    assert PhonemeMapper(vocabulary()).map(ipa) == tuple(tokens.split())


def test_a_rewrite_is_skipped_when_the_vocabulary_has_the_original_token():
    vocab = Vocabulary.from_labels(["<blank>", "<wb>", "tʃ", "ɪ", "p"], blank="<blank>", word_delimiter="<wb>")
    assert PhonemeMapper(vocab).map("tʃˈɪp") == ("tʃ", "ɪ", "p")


def test_a_character_without_a_token_is_named():
    with pytest.raises(VocabularyError, match="no token for 'θ'"):
        PhonemeMapper(vocabulary(without="θ")).map("θˈɪŋk")


def test_word_lists_read_lexicon_files_and_arpa_unigrams(shared, tmp_path):
    assert read_word_list(shared.path("torchaudio/lexicon.txt")) == ["foo", "bar", "foobar"]
    assert read_word_list(shared.path("kenlm/toy0.arpa")) == ["a", "b"]
    plain = tmp_path / "words.txt"
    plain.write_text("cat\n\ndog\ncat\n")
    assert read_word_list(plain) == ["cat", "dog"]


# ---------------------------------------------------------------------------- espeak-ng
WORDS = ["church", "there", "their", "think", "yellow", "god"]


def test_build_lexicon_with_espeak_homophones_share_a_pronunciation(tmp_path):
    needs_espeak()
    source = tmp_path / "words.txt"
    source.write_text("\n".join(WORDS) + "\n")
    built = build_lexicon(source, vocabulary())
    lex = built.lexicon
    assert lex is not None and built.unmapped == {}
    assert lex.pronunciations("church") == (("t͡ʃ", "ɝ", "t͡ʃ", "<wb>"),)
    assert lex.pronunciations("god") == (("g", "ɑ", "d", "<wb>"),)
    assert lex.pronunciations("there") == lex.pronunciations("their") == (("ð", "ɛ", "ɹ", "<wb>"),)
    # the cache lies beside the word list, and the written file is what the lexicon reader takes
    assert built.cache_files == (source.with_name("words.txt.espeak-en-us.g2p.tsv"),)
    written = lex.save(tmp_path / "lexicon.txt")
    assert written.read_text().splitlines()[0] == "church t͡ʃ ɝ t͡ʃ <wb>"
    words, prons = Lexicon.from_file(written).resolve(vocabulary())
    assert words == tuple(WORDS) and len(prons) == len(WORDS)


def test_the_cache_is_reused_and_lives_in_the_user_cache_for_a_read_only_folder(tmp_path, monkeypatch):
    needs_espeak()
    import ctcdecode_kit.g2p as g2p

    folder = tmp_path / "ro"
    folder.mkdir()
    source = folder / "words.txt"
    source.write_text("\n".join(WORDS) + "\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    os.chmod(folder, 0o555)
    try:
        first = build_lexicon(source, vocabulary())
    finally:
        os.chmod(folder, 0o755)
    (cache,) = first.cache_files
    assert cache.is_relative_to(tmp_path / "cache" / "ctcdecode_kit") and not list(folder.glob("*.g2p.tsv"))

    def no_espeak(*args, **kwargs):
        raise AssertionError("espeak-ng ran although the cache holds every word")

    monkeypatch.setattr(g2p, "espeak_ipa", no_espeak)
    os.chmod(folder, 0o555)
    try:
        again = build_lexicon(source, vocabulary())
    finally:
        os.chmod(folder, 0o755)
    assert again.lexicon == first.lexicon


def test_words_that_cannot_be_mapped_are_reported_not_guessed():
    needs_espeak()
    built = build_lexicon(["think", "cat"], vocabulary(without="θ"), cache=False)
    assert built.lexicon is not None and built.lexicon.words == ("cat",)
    assert set(built.unmapped) == {"think"} and "'θ'" in built.unmapped["think"]
    assert built.phonemes["think"]["espeak"].startswith("θ")


def test_cli_lexicon_build_writes_the_lexicon_and_the_unmapped_words(tmp_path):
    needs_espeak()
    from typer.testing import CliRunner

    from ctcdecode_kit.cli import app

    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n".join(t for t in LABELS if t != "θ") + "\n")
    words = tmp_path / "words.txt"
    words.write_text("cat\nthink\n")
    out = tmp_path / "lex" / "lexicon.txt"
    result = CliRunner().invoke(app, ["lexicon", "build", str(words), "--vocab", str(tokens), "--blank", "<blank>",
                                        "--word-delimiter", "<wb>", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == "cat k æ t <wb>\n"
    assert "1 words could not be mapped (think" in result.output
    assert Path(str(out) + ".unmapped.txt").read_text().startswith("think\t")
    result = CliRunner().invoke(app, ["lexicon", "build", str(words), "-o", str(out)])
    assert result.exit_code == 2 and "--model MODEL or --vocab VOCAB" in result.output


# ---------------------------------------------------------------------------- hama's G2P
@pytest.mark.extra("onnx")
def test_hama_g2p_gives_the_recognisers_own_tokens():
    require_module("hama", install="pip install 'ctcdecode-kit[onnx]'")
    from ctcdecode_kit.onnx_model import hama_vocabulary

    built = build_lexicon(["church", "the"], hama_vocabulary(), backends=("hama",), cache=False)
    assert built.lexicon is not None and built.unmapped == {}
    assert ("t͡ʃ", "ɝ", "t͡ʃ", "<wb>") in built.lexicon.pronunciations("church")
    assert ("ð", "i", "<wb>") in built.lexicon.pronunciations("the")  # what the recogniser says for "the"
