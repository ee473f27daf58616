"""LM diagnostics (OOV rate, mismatch warnings) and the statistics, on small made-up inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary
from ctcdecode_kit.report.alignment import align
from ctcdecode_kit.report.diagnostics import (
    LMVocabulary,
    lm_diagnostics,
    read_lm_vocabulary,
    vocabulary_warnings,
)
from ctcdecode_kit.report.stats import (
    bootstrap_ci,
    paired_bootstrap_p,
    resample_indices,
    sign_test,
)

UPPER = Vocabulary.from_labels(["<pad>", "|"] + [chr(c) for c in range(65, 91)] + ["'"], blank="<pad>", word_delimiter="|")
WORDS = [f"w{chr(97 + i)}{chr(97 + j)}" for i in range(26) for j in range(26)]  # 676 plain lower-case words


def lm(words, has_unk=True) -> LMVocabulary:
    return LMVocabulary(frozenset(words), has_unk)


def warnings_about(words, vocabulary=UPPER, has_unk=True) -> str:
    return "\n".join(vocabulary_warnings(lm(words, has_unk), vocabulary))


def test_a_clean_lower_case_lm_against_an_upper_case_vocabulary_gets_no_warning():
    assert vocabulary_warnings(lm(WORDS + ["don't"]), UPPER) == []


def test_an_lm_without_unk_is_warned_about():
    assert "no <unk>" in warnings_about(WORDS + ["don't"], has_unk=False)


def test_capitalised_words_in_a_lower_case_lm_are_warned_about():
    text = warnings_about(WORDS + ["don't"] + ["John", "Mary", "London", "Paris", "Rome"])
    assert "letter case: 5 of 682 LM words" in text and "'John'" in text


def test_punctuation_the_vocabulary_cannot_write_is_warned_about():
    text = warnings_about(WORDS + ["don't", "end.", "hello,", "yes!", "a-b"])
    assert "punctuation: 4 of" in text and "'end.'" in text


def test_an_apostrophe_no_lm_word_holds_is_warned_about():
    assert "writes \"'\" but no LM word holds it" in warnings_about(WORDS)


def test_digits_on_one_side_only_are_warned_about():
    assert "digits: 4 of" in warnings_about(WORDS + ["don't", "1990", "2nd", "42", "7"])
    digits = Vocabulary.from_labels(["<pad>", "|"] + [chr(c) for c in range(65, 91)] + list("0123456789'"),
                                    blank="<pad>", word_delimiter="|")
    assert "the vocabulary writes digits but no LM word holds one" in warnings_about(WORDS + ["don't"], digits)


def test_a_character_level_lm_is_warned_about():
    assert "looks character-level" in warnings_about(list("abcdefghijklmnopqrstuvwxyz'") + ["ab"])


def test_a_mixed_case_vocabulary_against_a_one_case_lm_is_warned_about():
    mixed = Vocabulary.from_labels(["<pad>", "|"] + list("abcABC'"), blank="<pad>", word_delimiter="|")
    assert "vocabulary writes both cases" in warnings_about(WORDS + ["don't"], mixed)


def test_the_oov_rate_maps_reference_words_to_the_lm_case():
    d = lm_diagnostics(None, None, [["A"]])
    assert d.oov_rate is None and d.warnings == []
    words = LMVocabulary(frozenset({"the", "cat"}), True)
    from ctcdecode_kit.report.diagnostics import oov_masks, oov_rate

    assert oov_rate([["THE", "CAT", "DOG"], ["THE"]], words) == pytest.approx(1 / 4)
    assert [m.tolist() for m in oov_masks([["THE", "DOG"]], words)] == [[False, True]]


def test_read_lm_vocabulary_finds_a_missing_unk(shared):
    with_unk = read_lm_vocabulary(shared.path("kenlm/test.arpa"))
    without = read_lm_vocabulary(shared.path("kenlm/test_nounk.arpa"))
    assert with_unk.has_unk is True and without.has_unk is False
    assert "<unk>" not in without.words and "<s>" not in with_unk.words and len(without.words) > 10


def test_read_lm_vocabulary_of_a_kenlm_binary_lists_its_words(shared):
    binary = read_lm_vocabulary(shared.path("kenlm-bin/test.probing.bin"))
    text = read_lm_vocabulary(shared.path("kenlm/test.arpa"))
    assert binary.words == text.words and binary.has_unk is True


def test_alignment_counts_add_up_to_the_corpus_score():
    from ctcdecode_kit.metrics import score

    refs, hyps = ["the cat sat", "a b c d", "x"], ["the hat sat down", "a c d", ""]
    a, s = align(refs, hyps), score(refs, hyps)
    assert (int(a.substitutions.sum()), int(a.deletions.sum()), int(a.insertions.sum())) == (
        s.substitutions, s.deletions, s.insertions)
    assert int(a.char_errors.sum()) == s.char_errors and int(a.ref_chars.sum()) == s.ref_chars


def test_the_paired_bootstrap_finds_a_large_difference_and_none_between_equal_systems():
    rng = np.random.default_rng(5)
    totals = rng.integers(5, 20, size=200)
    base = rng.binomial(totals, 0.3)
    better = rng.binomial(totals, 0.1)
    idx = resample_indices(200)
    assert paired_bootstrap_p(better, base, totals, idx) <= 1 / 1001 + 1e-12
    assert paired_bootstrap_p(base, base, totals, idx) == 1.0
    low, high = bootstrap_ci(better, totals, idx)
    assert low < better.sum() / totals.sum() < high < 0.3


def test_the_sign_test_equals_scipys_binomial_test():
    from scipy.stats import binomtest

    for better, worse in [(0, 0), (3, 0), (7, 3), (40, 60), (500, 560)]:
        base = np.array([1] * better + [0] * worse + [2, 2])
        mine = np.array([0] * better + [1] * worse + [2, 2])
        test = sign_test(base, mine)
        assert (test.better, test.worse, test.ties) == (better, worse, 2)
        expected = 1.0 if better + worse == 0 else binomtest(better, better + worse, 0.5).pvalue
        assert test.p_value == pytest.approx(expected, rel=1e-9)
