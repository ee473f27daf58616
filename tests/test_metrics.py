"""Corpus-level WER/CER over jiwer, and the one text normalisation."""

from __future__ import annotations

import json

import pytest

from ctcdecode_kit import Hypothesis
from ctcdecode_kit.errors import InputError
from ctcdecode_kit.metrics import Scores, normalize_text, score


def test_normalize_text_uppercases_and_collapses_whitespace():
    assert normalize_text("  hello \t wide\n world ") == "HELLO WIDE WORLD"


def test_normalize_text_unifies_curly_apostrophes_and_keeps_in_word_ones():
    assert normalize_text("don’t ‘quote’ o`brien") == "DON'T QUOTE O'BRIEN"


def test_normalize_text_drops_apostrophes_that_are_not_inside_a_word():
    assert normalize_text("'tis the dogs' ' bone") == "TIS THE DOGS BONE"


def test_normalize_text_turns_punctuation_into_word_breaks():
    assert normalize_text("Love-making, during the picnic—season... (yes!)") == "LOVE MAKING DURING THE PICNIC SEASON YES"


def test_normalize_text_keeps_accented_letters_and_digits():
    assert normalize_text("café 42") == "CAFÉ 42"


def test_score_matches_a_hand_computed_alignment_at_corpus_level():
    references = ["THE CAT SAT ON THE MAT", "HELLO WORLD"]
    hypotheses = ["THE CAT SAT IN THE MAT MAT", ""]
    s = score(references, hypotheses)
    # utterance 1: ON->IN (1 substitution), extra MAT (1 insertion), 5 hits; utterance 2: 2 deletions
    assert (s.substitutions, s.deletions, s.insertions, s.hits, s.ref_words) == (1, 2, 1, 5, 8)
    assert s.wer == pytest.approx(4 / 8)  # a mean of per-utterance WERs would be (2/6 + 2/2) / 2 = 0.667
    # characters: O->I plus " MAT" inserted (5 edits of 22); "HELLO WORLD" all deleted (11 of 11)
    assert (s.char_errors, s.ref_chars) == (16, 33)
    assert s.cer == pytest.approx(16 / 33)
    assert s.n_utterances == 2


def test_score_applies_the_same_normalisation_to_both_sides():
    assert score(["Don’t stop, the picnic."], ["DON'T STOP THE PICNIC"]).wer == 0.0


def test_score_without_normalisation_is_case_sensitive():
    assert score(["the cat"], ["THE CAT"], normalize=False).wer == 1.0


def test_empty_hypothesis_counts_every_reference_word_as_deleted():
    s = score(["A B C"], [""])
    assert (s.deletions, s.wer, s.cer) == (3, 1.0, 1.0)


def test_empty_reference_among_others_counts_hypothesis_words_as_insertions():
    s = score(["A B", ""], ["A B", "EXTRA WORDS"])
    assert (s.insertions, s.ref_words, s.wer) == (2, 2, 1.0)


def test_score_accepts_hypothesis_objects():
    hyp = Hypothesis(text="A B", tokens=(), score=0.0, am_score=0.0)
    assert score(["A B"], [hyp]).wer == 0.0


def test_score_refuses_different_numbers_of_references_and_hypotheses():
    with pytest.raises(InputError, match="2 references and 1 hypotheses"):
        score(["A", "B"], ["A"])


def test_score_refuses_an_empty_corpus_and_wordless_references():
    with pytest.raises(InputError, match="at least one"):
        score([], [])
    with pytest.raises(InputError, match="hold no words"):
        score(["...", ""], ["A", "B"])


def test_score_refuses_a_single_string_instead_of_a_list():
    with pytest.raises(InputError, match="not a single string"):
        score("A B", "A B")


def test_scores_to_dict_is_json_ready_with_every_field():
    d = score(["A B"], ["A C"]).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert set(d) >= {"wer", "cer", "substitutions", "deletions", "insertions", "hits", "ref_words", "ref_chars", "n_utterances"}


def test_scores_refuse_inconsistent_counts():
    with pytest.raises(InputError, match="inconsistent"):
        Scores(0.0, 0.0, 1, 0, 0, 5, ref_words=5, ref_chars=9, char_errors=0, n_utterances=1)
