"""Malformed ARPA files fail in Python with the line number, before KenLM sees them."""

from __future__ import annotations

import gzip

import pytest

from ctcdecode_kit.errors import FileFormatError, LanguageModelError
from ctcdecode_kit.lm import ArpaFormatError, KenLM, inspect_arpa

GOOD = """\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-1.0\t<s>\t-0.3
-0.5\thello\t-0.2
-0.7\tworld
-0.6\t</s>

\\2-grams:
-0.1\t<s> hello
-0.2\thello world

\\end\\
"""


def _write(tmp_path, text, name="lm.arpa"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_order_counts_and_unigrams(tmp_path):
    info = inspect_arpa(_write(tmp_path, GOOD))
    assert (info.order, info.counts, info.unigrams) == (2, (4, 2), ("hello", "world"))


def test_unigram_lines_without_backoff_and_with_spaces_are_read(tmp_path):
    text = GOOD.replace("-0.7\tworld", "-0.7 world")
    assert inspect_arpa(_write(tmp_path, text)).unigrams == ("hello", "world")


def test_a_gzipped_arpa_is_read(tmp_path):
    path = tmp_path / "lm.arpa.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(GOOD)
    assert inspect_arpa(path).counts == (4, 2)


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(ArpaFormatError, match="is empty"):
        KenLM(_write(tmp_path, ""))


def test_a_blank_file_is_refused(tmp_path):
    with pytest.raises(ArpaFormatError, match="only blank lines"):
        inspect_arpa(_write(tmp_path, "\n\n  \n"))


def test_a_missing_data_header_names_the_line(tmp_path):
    with pytest.raises(ArpaFormatError, match=r"line 1: 'hello there'.*expected the ARPA header"):
        KenLM(_write(tmp_path, "hello there\n" + GOOD))


def test_a_bad_count_line_names_the_line_and_content(tmp_path):
    text = GOOD.replace("ngram 2=2", "ngram 2=two")
    with pytest.raises(ArpaFormatError, match=r"line 3: 'ngram 2=two'.*whole number"):
        KenLM(_write(tmp_path, text))


def test_a_count_that_disagrees_with_its_section_is_refused(tmp_path):
    text = GOOD.replace("ngram 2=2", "ngram 2=3")
    with pytest.raises(ArpaFormatError, match=r"declares 3 2-grams but the '\\2-grams:' section \(from line 11\) has 2"):
        KenLM(_write(tmp_path, text))


def test_a_non_numeric_score_names_the_line_number_and_content(tmp_path):
    text = GOOD.replace("-0.5\thello\t-0.2", "abc\thello\t-0.2")
    with pytest.raises(ArpaFormatError, match=r"line 7: 'abc\\thello\\t-0.2'.*log10 probability 'abc' is not a number"):
        KenLM(_write(tmp_path, text))


def test_a_non_numeric_backoff_is_refused(tmp_path):
    text = GOOD.replace("-0.5\thello\t-0.2", "-0.5\thello\tx")
    with pytest.raises(ArpaFormatError, match=r"line 7:.*backoff weight 'x'"):
        inspect_arpa(_write(tmp_path, text))


def test_a_line_with_the_wrong_number_of_words_is_refused(tmp_path):
    text = GOOD.replace("-0.2\thello world", "-0.2\thello big world now")
    with pytest.raises(ArpaFormatError, match=r"line 13:.*2-gram line needs"):
        inspect_arpa(_write(tmp_path, text))


def test_order_zero_is_refused(tmp_path):
    with pytest.raises(ArpaFormatError, match="order 0"):
        KenLM(_write(tmp_path, "\\data\\\n\n\\end\\\n"))


def test_ngram_zero_line_is_refused(tmp_path):
    with pytest.raises(ArpaFormatError, match="order 0 is not valid"):
        inspect_arpa(_write(tmp_path, "\\data\\\nngram 0=5\n"))


def test_a_truncated_file_is_refused(tmp_path):
    text = GOOD.split("\\2-grams:")[0]
    with pytest.raises(ArpaFormatError, match=r"before the '\\2-grams:' section.*truncated"):
        KenLM(_write(tmp_path, text))


def test_a_missing_end_marker_is_refused(tmp_path):
    with pytest.raises(ArpaFormatError, match=r"without the closing '\\end\\'"):
        inspect_arpa(_write(tmp_path, GOOD.replace("\\end\\", "")))


def test_arpa_format_errors_are_file_format_and_language_model_errors(tmp_path):
    with pytest.raises(FileFormatError):
        KenLM(_write(tmp_path, "garbage\n"))
    with pytest.raises(LanguageModelError):
        KenLM(_write(tmp_path, "garbage\n"))


def test_kenlms_own_test_models_pass_the_checks(shared):
    for name in ("kenlm/test.arpa", "kenlm/test_nounk.arpa", "kenlm/toy0.arpa", "kenlm/toy1.arpa",
                 "torchaudio/kenlm.arpa", "pyctcdecode/bugs_bunny_kenlm.arpa"):
        assert inspect_arpa(shared.path(name)).order >= 2


def test_a_unigram_only_model_is_refused_with_the_reason(tmp_path):
    text = "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-0.5\ta\n\n\\end\\\n"
    with pytest.raises(LanguageModelError, match="unigram model.*needs at least a bigram"):
        KenLM(_write(tmp_path, text))
