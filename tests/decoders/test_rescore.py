"""The "rescore" backend: first-pass n-best re-ranked by language models."""

from __future__ import annotations

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.decoders.rescore import RescoreDecoder, rescore_hypotheses
from ctcdecode_kit.errors import InputError, LanguageModelError
from ctcdecode_kit.hypothesis import Hypothesis
from ctcdecode_kit.lm import KenLM, LanguageModelBase
from tests.conftest import FlatLM, backend_params

WHEREBY = "ALSO A POPULAR CONTRIVANCE WHEREBY LOVE MAKING MAY BE SUSPENDED BUT NOT STOPPED DURING THE PICNIC SEASON"
WHERE_BY = WHEREBY.replace("WHEREBY", "WHERE BY")
FIRST = {"beam_width": 16, "num_workers": 1}


class PrefersWhereBy(LanguageModelBase):
    order = 1

    def begin(self):
        return ()

    def score(self, state, word):
        return (-0.1 if word in ("WHERE", "BY") else -10.0), ()

    def end(self, state):
        return 0.0


class Counting(FlatLM):
    """-1 per word, and counts how many sentences it was asked to score in batches."""

    def __init__(self):
        self.batched = 0

    def score_sentences(self, sentences):
        self.batched += len(sentences)
        return [-float(len(s)) for s in sentences]


@pytest.fixture(scope="module")
def wav2vec2(shared):
    return shared.wav2vec2_vocab(), shared.wav2vec2_logits()


BEAMS = backend_params("native", "pyctcdecode")
"""The beam-search backends a first pass can be (pyctcdecode's case needs its extra)."""


def _loaded_lm(decoder):
    """The LM object a beam decoder loaded (where each backend keeps it)."""
    return decoder._lm.language_model if decoder.name == "pyctcdecode" else decoder._native_lm


@pytest.mark.parametrize("first_pass", BEAMS)
def test_the_same_custom_lm_object_changes_fusion_and_rescoring_output(wav2vec2, first_pass):
    vocab, logits = wav2vec2
    lm = PrefersWhereBy()
    first = build_decoder(first_pass, vocab, **FIRST).decode(logits)[0][0]
    fused = build_decoder(first_pass, vocab, lm=lm, alpha=1.0, beta=0.0, **FIRST).decode(logits)[0][0]
    rescored = build_decoder("rescore", vocab, first_pass=first_pass, lms=lm, alphas=1.0,
                             first_pass_options=FIRST).decode(logits)[0][0]
    assert first.text == WHEREBY and fused.text == WHERE_BY and rescored.text == WHERE_BY


@pytest.mark.parametrize("first_pass", BEAMS)
def test_weights_zero_return_the_first_pass_ranking_unchanged(wav2vec2, first_pass):
    vocab, logits = wav2vec2
    first = build_decoder(first_pass, vocab, **FIRST).decode(logits, nbest=8)[0]
    again = build_decoder("rescore", vocab, first_pass=first_pass, lms=PrefersWhereBy(), alphas=0.0, beta=0.0,
                          candidates=8, first_pass_options=FIRST).decode(logits, nbest=8)[0]
    assert [h.text for h in again] == [h.text for h in first] and len(first) > 1


@pytest.mark.parametrize("first_pass", BEAMS)
def test_weights_zero_with_base_score_keep_a_fused_first_pass_ranking(wav2vec2, shared, first_pass):
    vocab, logits = wav2vec2
    options = dict(FIRST, lm=str(shared.path("librispeech-lm/3-gram.pruned.arpa")))
    first = build_decoder(first_pass, vocab, **options).decode(logits, nbest=4)[0]
    again = build_decoder("rescore", vocab, first_pass=first_pass, lms=PrefersWhereBy(), alphas=0.0, base="score",
                          candidates=4, first_pass_options=options).decode(logits, nbest=4)[0]
    assert [h.text for h in again] == [h.text for h in first]


def test_scores_follow_am_plus_weighted_lm_plus_word_bonus(wav2vec2, shared):
    vocab, logits = wav2vec2
    lm = KenLM(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    hyps = build_decoder("rescore", vocab, lms=[lm], alphas=[0.7], beta=1.5, candidates=8,
                         first_pass_options=FIRST).decode(logits, nbest=8)[0]
    for h in hyps:
        assert h.lm_score == pytest.approx(lm.score_sentence(h.text.lower()))
        assert h.score == pytest.approx(h.am_score + 0.7 * h.lm_score + 1.5 * len(h.text.split()))
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
    assert hyps[0].text == WHEREBY


def test_an_lm_path_is_loaded_as_kenlm(wav2vec2, shared):
    vocab, logits = wav2vec2
    decoder = build_decoder("rescore", vocab, lms=str(shared.path("librispeech-lm/3-gram.pruned.arpa")),
                            first_pass_options=FIRST)
    assert isinstance(decoder.lms[0], KenLM) and decoder.cases == ["lower"]


def test_several_lms_report_the_alpha_weighted_mean_as_lm_score():
    hyp = Hypothesis("A B", (), -1.0, -1.0)
    lm_a, lm_b = PrefersWhereBy(), Counting()
    [[out]] = rescore_hypotheses([[hyp]], [lm_a, lm_b], [1.0, 3.0], beta=0.5)
    a, b = lm_a.score_sentence("A B"), -2.0
    assert out.lm_score == pytest.approx((1.0 * a + 3.0 * b) / 4.0)
    assert out.score == pytest.approx(-1.0 + 1.0 * a + 3.0 * b + 0.5 * 2)


def test_the_batched_score_sentences_is_used_once_per_distinct_text():
    lm = Counting()
    hyps = [[Hypothesis("A", (), 0.0, 0.0), Hypothesis("A B", (), -1.0, -1.0)], [Hypothesis("A", (), 0.0, 0.0)]]
    rescore_hypotheses(hyps, [lm], [1.0])
    assert lm.batched == 2


def test_a_first_pass_decoder_object_is_accepted(wav2vec2):
    vocab, logits = wav2vec2
    first = build_decoder("greedy", vocab)
    decoder = build_decoder("rescore", vocab, first_pass=first, lms=PrefersWhereBy())
    assert decoder.decode(logits)[0][0].text == WHEREBY


def test_the_first_pass_is_asked_for_at_least_nbest_candidates(wav2vec2):
    vocab, logits = wav2vec2
    greedy = build_decoder("greedy", vocab)
    asked = []

    class Recording:
        vocabulary = vocab

        def decode(self, logits, lengths=None, *, nbest=None):
            asked.append(nbest)
            return greedy.decode(logits, lengths, nbest=nbest)

    decoder = build_decoder("rescore", vocab, first_pass=Recording(), candidates=2)
    decoder.decode(logits, nbest=5)
    decoder.decode(logits)
    assert asked == [5, 2]


def test_a_custom_lm_used_for_rescoring_is_checked(wav2vec2):
    class NoScore:
        order = 1

        def begin(self):
            return ()

        def end(self, state):
            return 0.0

    with pytest.raises(LanguageModelError, match=r"NoScore does not implement score\(state, word\)"):
        build_decoder("rescore", wav2vec2[0], lms=[NoScore()])


def test_non_finite_rescoring_scores_are_refused(wav2vec2):
    class Inf(PrefersWhereBy):
        def end(self, state):
            return float("-inf")

    decoder = build_decoder("rescore", wav2vec2[0], lms=Inf(), first_pass="greedy")
    with pytest.raises(LanguageModelError, match="non-finite score -inf from end"):
        decoder.decode(wav2vec2[1])


def test_alphas_must_match_the_number_of_lms(wav2vec2):
    with pytest.raises(InputError, match="one weight per LM: 2 LM"):
        build_decoder("rescore", wav2vec2[0], lms=[PrefersWhereBy(), Counting()], alphas=[1.0])


def test_a_vocabulary_without_word_delimiter_cannot_rescore_with_a_word_lm():
    vocab = Vocabulary.from_labels(["<pad>", "A", "B"], word_delimiter=None)
    with pytest.raises(LanguageModelError, match="word delimiter"):
        build_decoder("rescore", vocab, lms=PrefersWhereBy(), first_pass="greedy")


@pytest.mark.parametrize(
    ("options", "message"),
    [({"candidates": 0}, "candidates must be >= 1"), ({"base": "total"}, "base must be"),
     ({"beta": float("nan")}, "beta must be a finite number"), ({"first_pass": "rescore"}, "cannot be 'rescore'"),
     ({"first_pass": 3}, "decoder name or a Decoder")],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(InputError, match=message):
        build_decoder("rescore", ["<pad>", "|", "A"], **options)


def test_rescore_is_registered_by_name():
    decoder = build_decoder("rescore", ["<pad>", "|", "A", "B"], first_pass="greedy")
    assert isinstance(decoder, RescoreDecoder)
    logits = np.log(np.array([[0.1, 0.1, 0.7, 0.1]], np.float32))
    assert decoder.decode(logits)[0][0].text == "A"


# ---------------------------------------------------------------- the default base (issue 11, item 6)
@pytest.mark.parametrize("first_pass", BEAMS)
def test_zero_weights_keep_the_ranking_of_a_first_pass_that_fused_an_lm(wav2vec2, shared, first_pass):
    vocab, clean = wav2vec2
    logits = clean + np.random.default_rng(0).normal(scale=2.0, size=clean.shape).astype(np.float32)
    options = dict(FIRST, lm=str(shared.path("librispeech-lm/3-gram.pruned.arpa")))
    first = build_decoder(first_pass, vocab, **options).decode(logits, nbest=8)[0]
    by_am = sorted(first, key=lambda h: -h.am_score)
    assert len(first) == 8 and by_am != first  # the fused LM changed the acoustic ranking
    again = build_decoder("rescore", vocab, first_pass=first_pass, lms=PrefersWhereBy(), alphas=0.0, beta=0.0,
                          candidates=8, first_pass_options=options).decode(logits, nbest=8)[0]
    assert [h.text for h in again] == [h.text for h in first]
    assert [h.score for h in again] == [h.score for h in first]


def test_base_am_replaces_the_first_pass_lm_by_the_rescoring_lms(wav2vec2, shared):
    vocab, logits = wav2vec2
    options = dict(FIRST, lm=str(shared.path("librispeech-lm/3-gram.pruned.arpa")))
    hyps = build_decoder("rescore", vocab, lms=PrefersWhereBy(), alphas=0.5, beta=1.0, base="am", candidates=8,
                         first_pass_options=options).decode(logits, nbest=8)[0]
    for h in hyps:
        assert h.score == pytest.approx(h.am_score + 0.5 * h.lm_score + 1.0 * len(h.text.split()))


def test_rescore_hypotheses_defaults_to_the_first_pass_score_and_checks_base():
    hyps = [[Hypothesis("A", (), -5.0, -1.0), Hypothesis("A B", (), -6.0, -0.5)]]
    assert [h.text for h in rescore_hypotheses(hyps, [], [])[0]] == ["A", "A B"]
    assert [h.text for h in rescore_hypotheses(hyps, [], [], base="am")[0]] == ["A B", "A"]
    with pytest.raises(InputError, match="base must be 'am' or 'score'"):
        rescore_hypotheses(hyps, [], [], base="total")


# ---------------------------------------------------------------- with_options (issue 11)
def test_with_options_shares_the_first_pass_and_the_loaded_lms(wav2vec2, shared, monkeypatch):
    vocab, logits = wav2vec2
    lm_path = str(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    decoder = build_decoder("rescore", vocab, lms=lm_path, alphas=0.5, candidates=8, first_pass_options=FIRST)
    before = decoder.decode(logits, nbest=4)
    loads = []
    monkeypatch.setattr(KenLM, "__init__", lambda self, *a, **k: loads.append(a))
    derived = decoder.with_options(alphas=[2.0], beta=1.0)
    assert loads == [] and derived is not decoder
    assert derived.lms[0] is decoder.lms[0] and derived.first_pass is decoder.first_pass
    assert (derived.alphas, derived.beta, decoder.alphas, decoder.beta) == ([2.0], 1.0, [0.5], 0.0)
    assert decoder.decode(logits, nbest=4) == before
    rebuilt = build_decoder("rescore", vocab, lms=decoder.lms, alphas=2.0, beta=1.0, candidates=8,
                            first_pass=decoder.first_pass)
    assert derived.decode(logits, nbest=4) == rebuilt.decode(logits, nbest=4)
    derived.close()
    assert decoder.decode(logits, nbest=4) == before  # the shared first pass is still the original's


@pytest.mark.parametrize("first_pass", BEAMS)
def test_with_options_of_first_pass_options_derives_the_first_pass_sharing_its_lm(wav2vec2, shared, first_pass):
    vocab, logits = wav2vec2
    options = dict(FIRST, lm=str(shared.path("librispeech-lm/3-gram.pruned.arpa")))
    decoder = build_decoder("rescore", vocab, first_pass=first_pass, lms=PrefersWhereBy(), first_pass_options=options)
    derived = decoder.with_options(first_pass_options={"beam_width": 4})
    assert derived.first_pass is not decoder.first_pass
    assert (derived.first_pass.beam_width, decoder.first_pass.beam_width) == (4, 16)
    assert _loaded_lm(derived.first_pass) is _loaded_lm(decoder.first_pass) is not None
    with pytest.raises(InputError, match="does not take option"):
        decoder.with_options(alpha=1.0)
