"""KenLM models: scores equal KenLM's published values, unigrams, case mapping."""

from __future__ import annotations

import math

import pytest

from ctcdecode_kit.errors import LanguageModelError, MissingFileError
from ctcdecode_kit.lm import KenLM, LanguageModel, log10_to_ln, word_scores

LN10 = math.log(10)
LIBRI_WORDS = "the cat sat on the mat".split()
LIBRI_LOG10 = [-1.05971, -4.19448, -3.33383, -2.76726, -1.16237, -4.64589]  # from flashlight's test
LIBRI_TOTAL_LOG10 = -19.5123
# Those values are published with 5 decimals (rounded by up to 5e-6 in log10), which is
# up to 1.15e-5 once converted to natural log: that rounding is the tolerance.
ROUNDING = 5e-6 * LN10


@pytest.fixture(scope="module")
def libri(shared):
    return KenLM(shared.path("librispeech-lm/3-gram.pruned.arpa"))


@pytest.fixture(scope="module")
def kenlm_test(shared):
    return KenLM(shared.path("kenlm/test.arpa"))


def test_looking_after_sentence_start_equals_kenlms_own_test_value(kenlm_test):
    logp, _ = kenlm_test.score(kenlm_test.begin(), "looking")
    assert logp == pytest.approx(-0.4846522 * LN10, abs=1e-5)


def test_looking_on_a_little_per_word_equals_kenlms_own_test_values(kenlm_test):
    got = [logp for _, logp in word_scores(kenlm_test, "looking on a little")[:-1]]
    expected = [-0.484652, -0.348837, -0.0155266, -0.00306122]
    assert got == pytest.approx([e * LN10 for e in expected], abs=1e-5)


def test_log10_to_ln_is_multiplication_by_ln10():
    assert log10_to_ln(-2.0) == pytest.approx(-2.0 * LN10)


def test_librispeech_lm_per_word_scores_equal_the_published_values(libri):
    scores = word_scores(libri, LIBRI_WORDS)
    assert [w for w, _ in scores] == LIBRI_WORDS + ["</s>"]
    assert [s for _, s in scores[:-1]] == pytest.approx([v * LN10 for v in LIBRI_LOG10], abs=ROUNDING)


def test_librispeech_lm_sentence_total_with_end_of_sentence_equals_the_published_value(libri):
    assert libri.score_sentence(LIBRI_WORDS) == pytest.approx(LIBRI_TOTAL_LOG10 * LN10, abs=5e-5 * LN10)
    assert sum(s for _, s in word_scores(libri, LIBRI_WORDS)) == pytest.approx(libri.score_sentence(LIBRI_WORDS))


def test_uppercase_wav2vec2_text_scores_the_same_through_case_mapping(libri):
    assert libri.case == "lower"
    assert libri.score_sentence("THE CAT SAT ON THE MAT") == pytest.approx(libri.score_sentence(LIBRI_WORDS))
    assert word_scores(libri, "THE CAT")[1][1] == pytest.approx(LIBRI_LOG10[1] * LN10, abs=ROUNDING)


def test_without_case_mapping_uppercase_words_are_unknown(shared):
    raw = KenLM(shared.path("librispeech-lm/3-gram.pruned.arpa"), case=None)
    assert "THE" not in raw and "the" in raw
    unknown = raw.score(raw.begin(), "ZZZQX")[0]
    assert raw.score(raw.begin(), "THE")[0] == unknown != raw.score(raw.begin(), "the")[0]


def test_all_200000_librispeech_unigrams_are_read(libri):
    # the header says 200,003 = 200,000 words + <s>, </s>, <unk>; pyctcdecode's reader finds 289
    assert len(libri.unigrams) == 200_000 and len(set(libri.unigrams)) == 200_000
    assert "mat" in libri.unigrams and "<s>" not in libri.unigrams


@pytest.mark.extra("pyctcdecode")
def test_pyctcdecode_reader_misses_unigrams_without_backoff(shared, libri):
    from pyctcdecode.language_model import load_unigram_set_from_arpa

    theirs = load_unigram_set_from_arpa(str(shared.path("librispeech-lm/3-gram.pruned.arpa")))
    assert len(theirs) < 1000 < len(libri.unigrams)


def test_order_and_protocol(libri, kenlm_test):
    assert libri.order == 3 and kenlm_test.order == 5
    assert isinstance(libri, LanguageModel)


def test_states_are_hashable_and_equal_for_the_same_history(kenlm_test):
    _, a = kenlm_test.score(kenlm_test.begin(), "looking")
    _, b = kenlm_test.score(kenlm_test.begin(), "looking")
    assert a == b and hash(a) == hash(b)


def test_missing_file_is_a_missing_file_error(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        KenLM(tmp_path / "nope.arpa")


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(LanguageModelError, match="is a folder"):
        KenLM(tmp_path)


def test_explicit_upper_case_is_kept(shared):
    lm = KenLM(shared.path("kenlm/test.arpa"), case="upper")
    assert lm.case == "upper" and "looking" not in lm


def test_a_bad_case_option_is_refused(shared):
    from ctcdecode_kit.errors import InputError

    with pytest.raises(InputError, match="case must be one of"):
        KenLM(shared.path("kenlm/test.arpa"), case="title")


def test_unigrams_can_be_given_for_a_model(shared, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("looking\non\n")
    lm = KenLM(shared.path("kenlm/test.arpa"), unigrams=words)
    assert lm.unigrams == ("looking", "on")


def test_the_vocabulary_stored_at_the_end_of_a_kenlm_binary_is_read(tmp_path):
    from ctcdecode_kit.lm.kenlm_model import _read_binary_vocabulary

    path = tmp_path / "model.bin"
    path.write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\x00" + bytes(range(256)) * 8
                     + b"<unk>\x00<s>\x00</s>\x00cat\x00mat\x00")
    assert _read_binary_vocabulary(path) == ("cat", "mat")


@pytest.mark.parametrize("kind", ["probing", "trie"])
def test_a_real_kenlm_binary_scores_like_its_arpa_and_gives_its_words(shared, kind, kenlm_test):
    # built by KenLM's own build_binary from kenlm/test.arpa (../shared/data/kenlm-bin/README.md)
    binary = shared.path(f"kenlm-bin/test.{kind}.bin")
    lm = KenLM(binary)
    assert sorted(lm.unigrams) == sorted(kenlm_test.unigrams) and lm.case == "lower"
    assert lm.score_sentence("looking on a little") == pytest.approx(kenlm_test.score_sentence("looking on a little"))
