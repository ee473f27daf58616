"""The LanguageModel protocol, NullLM, sentence helpers and check_language_model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ctcdecode_kit.errors import LanguageModelError
from ctcdecode_kit.lm import (
    CheckedLanguageModel,
    LanguageModel,
    LanguageModelBase,
    NullLM,
    check_language_model,
    score_sentence,
    word_scores,
)


class Bigram(LanguageModelBase):
    """A tiny hand-written LM: the state is the previous word."""

    order = 2
    table = {("<s>", "hello"): -0.5, ("hello", "world"): -0.25}

    def begin(self):
        return "<s>"

    def score(self, state, word):
        return self.table.get((state, word), -5.0), word

    def end(self, state):
        return -0.125 if state == "world" else -3.0


def test_a_language_model_base_subclass_satisfies_the_runtime_protocol():
    assert isinstance(Bigram(), LanguageModel)
    assert isinstance(NullLM(), LanguageModel)
    assert not isinstance(object(), LanguageModel)


def test_score_sentence_sums_word_scores_and_the_end_of_sentence():
    assert Bigram().score_sentence(["hello", "world"]) == pytest.approx(-0.5 - 0.25 - 0.125)
    assert score_sentence(Bigram(), "hello world") == pytest.approx(-0.875)


def test_word_scores_lists_each_word_then_end_of_sentence():
    assert word_scores(Bigram(), "hello there") == [("hello", -0.5), ("there", -5.0), ("</s>", -3.0)]


def test_a_string_is_split_into_words_not_letters():
    assert Bigram().score_sentence("hello world") == Bigram().score_sentence(["hello", "world"])


def test_null_lm_scores_everything_zero():
    lm = NullLM()
    assert lm.score_sentence("any words at all") == 0.0 and lm.order == 1
    assert lm.score(lm.begin(), "x") == (0.0, ())


def test_check_language_model_returns_our_own_models_unwrapped():
    lm = NullLM()
    assert check_language_model(lm) is lm


def test_check_language_model_wraps_a_custom_lm_and_keeps_its_scores():
    checked = check_language_model(Bigram())
    assert isinstance(checked, CheckedLanguageModel) and checked.order == 2
    assert checked.score_sentence("hello world") == pytest.approx(-0.875)


@pytest.mark.parametrize(
    ("missing", "message"),
    [("begin", r"does not implement begin\(\)"), ("score", r"does not implement score\(state, word\)"),
     ("end", r"does not implement end\(state\)")],
)
def test_a_custom_lm_without_a_method_is_refused_naming_the_method(missing, message):
    methods = {
        "order": 2,
        "begin": lambda self: (),
        "score": lambda self, state, word: (0.0, ()),
        "end": lambda self, state: 0.0,
    }
    del methods[missing]
    cls = type("MyLM", (), methods)
    with pytest.raises(LanguageModelError, match=rf"custom LM MyLM {message}"):
        check_language_model(cls())


def test_a_custom_lm_with_order_zero_is_refused():
    class ZeroOrder(Bigram):
        order = 0

    with pytest.raises(LanguageModelError, match="order 0"):
        check_language_model(ZeroOrder())


def test_a_custom_lm_without_order_is_refused():
    class NoOrder:
        def begin(self):
            return ()

        def score(self, state, word):
            return 0.0, ()

        def end(self, state):
            return 0.0

    with pytest.raises(LanguageModelError, match="no 'order'"):
        check_language_model(NoOrder())


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -math.inf])
def test_a_non_finite_score_names_the_lm_the_word_and_the_value(bad):
    class Broken(Bigram):
        def score(self, state, word):
            return (bad if word == "world" else -1.0), word

    lm = check_language_model(Broken())
    with pytest.raises(LanguageModelError, match=rf"Broken returned the non-finite score {bad}.*'world'"):
        lm.score_sentence("hello world")


def test_a_non_finite_end_score_is_refused():
    class BadEnd(Bigram):
        def end(self, state):
            return float("nan")

    with pytest.raises(LanguageModelError, match="non-finite score nan from end"):
        check_language_model(BadEnd()).score_sentence("hello")


def test_an_exception_inside_a_custom_lm_is_wrapped_with_the_lm_name_and_word():
    class Exploding(Bigram):
        def score(self, state, word):
            raise KeyError("boom")

    with pytest.raises(LanguageModelError, match=r"Exploding raised KeyError.*'hello'.*boom") as info:
        check_language_model(Exploding()).score_sentence("hello")
    assert isinstance(info.value.__cause__, KeyError)


def test_a_swapped_state_logp_tuple_is_explained():
    class Swapped(Bigram):
        def score(self, state, word):
            return word, -1.0

    with pytest.raises(LanguageModelError, match=r"returned \(state, logp\).*order is \(logp, new_state\)"):
        check_language_model(Swapped()).score_sentence("hello")


def test_an_unhashable_state_is_refused():
    class ListState(Bigram):
        def score(self, state, word):
            return -1.0, [word]

    with pytest.raises(LanguageModelError, match="unhashable state of type list"):
        check_language_model(ListState()).score_sentence("hello")


def test_numpy_scalar_scores_are_accepted_as_floats():
    class NumpyLM(Bigram):
        def score(self, state, word):
            return np.float32(-1.5), word

    assert check_language_model(NumpyLM()).score(("x",), "a")[0] == -1.5


def test_a_path_given_as_a_language_model_object_is_explained():
    with pytest.raises(LanguageModelError, match="load it with KenLM"):
        check_language_model("model.arpa")


def test_a_custom_lm_with_its_own_score_sentence_is_asked_directly():
    class Sentence(Bigram):
        def score_sentence(self, words):
            return -42.0

    assert check_language_model(Sentence()).score_sentence("a b") == -42.0
    assert score_sentence(Sentence(), "a b") == -42.0
