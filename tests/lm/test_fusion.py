"""Shallow fusion with KenLM files and custom Python LMs, in each beam-search backend.

The fusion tests run on ``native`` (the core) and on ``pyctcdecode`` (marked
``extra("pyctcdecode")``, deselected in the numpy-2 core run); the tests of
:class:`~ctcdecode_kit.lm.PyctcdecodeLM`, the adapter of the pyctcdecode backend, need that extra.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.errors import LanguageModelError
from ctcdecode_kit.lm import KenLM, LanguageModelBase, NullLM
from tests.conftest import FlatLM, backend_params

WHEREBY = "ALSO A POPULAR CONTRIVANCE WHEREBY LOVE MAKING MAY BE SUSPENDED BUT NOT STOPPED DURING THE PICNIC SEASON"
WHERE_BY = WHEREBY.replace("WHEREBY", "WHERE BY")
BEAMS = backend_params("native", "pyctcdecode")
"""The beam-search backends that fuse an LM (pyctcdecode's case needs its extra)."""


class PrefersWhereBy(LanguageModelBase):
    """A custom LM written by a user: 'WHERE' and 'BY' are likely, anything else is not."""

    order = 1

    def __init__(self):
        self.calls = 0

    def begin(self):
        return ()

    def score(self, state, word):
        self.calls += 1
        return (-0.1 if word in ("WHERE", "BY") else -10.0), ()

    def end(self, state):
        return 0.0


# ---------------------------------------------------------------- bugs bunny (pyctcdecode's own test)
BUGS_LABELS = [" ", "b", "g", "n", "s", "u", "y", ""]


def one_hot(chars) -> np.ndarray:
    matrix = np.zeros((len(chars), len(BUGS_LABELS)))
    for row, char in enumerate(chars):
        matrix[row, BUGS_LABELS.index(char)] = 1
    return matrix


def bugs_bunny_probs() -> np.ndarray:
    """pyctcdecode's TEST_PROBS: 'bugs' at 0.49 mixed with 'bunny' at 0.51, a space, then 'bunny'."""
    bugs, bunny = one_hot("bugs"), one_hot(["b", "u", "n", "", "n", "y"])
    blank, space = one_hot([""]), one_hot([" "])
    return np.vstack([np.vstack([bugs, blank, blank]) * 0.49 + bunny * 0.51, space, bunny])


@pytest.fixture(scope="module")
def bugs_arpa(shared):
    return shared.path("pyctcdecode/bugs_bunny_kenlm.arpa")


def test_bugs_bunny_greedy_gives_bunny_bunny():
    vocab = Vocabulary.from_labels(BUGS_LABELS)
    assert build_decoder("greedy", vocab, input_type="probs").decode(bugs_bunny_probs())[0][0].text == "bunny bunny"


@pytest.mark.parametrize("backend", BEAMS)
def test_bugs_bunny_with_the_lm_gives_bugs_bunny(bugs_arpa, backend):
    vocab = Vocabulary.from_labels(BUGS_LABELS)
    decoder = build_decoder(backend, vocab, lm=str(bugs_arpa), input_type="probs", num_workers=1)
    assert decoder.decode(bugs_bunny_probs())[0][0].text == "bugs bunny"


@pytest.mark.parametrize("backend", BEAMS)
def test_bugs_bunny_with_log_probs_and_alpha_zero_stays_bunny_bunny(bugs_arpa, backend):
    vocab = Vocabulary.from_labels(BUGS_LABELS)
    logp = np.log(np.clip(bugs_bunny_probs(), 1e-15, 1))
    decoder = build_decoder(backend, vocab, lm=KenLM(bugs_arpa), alpha=0.0, input_type="log_probs",
                            num_workers=1)
    assert decoder.decode(logp)[0][0].text == "bunny bunny"


# ---------------------------------------------------------------- real wav2vec2 logits
@pytest.fixture(scope="module")
def wav2vec2(shared):
    return shared.wav2vec2_vocab(), shared.wav2vec2_logits()


@pytest.fixture(scope="module")
def libri_lm(shared):
    return KenLM(shared.path("librispeech-lm/3-gram.pruned.arpa"))


@pytest.mark.parametrize("backend", BEAMS)
def test_a_custom_python_lm_changes_the_beam_search_output(wav2vec2, backend):
    vocab, logits = wav2vec2
    plain = build_decoder(backend, vocab, beam_width=16, num_workers=1).decode(logits)[0][0]
    lm = PrefersWhereBy()
    fused = build_decoder(backend, vocab, beam_width=16, lm=lm, alpha=1.0, beta=0.0,
                          num_workers=1).decode(logits)[0][0]
    assert plain.text == WHEREBY and fused.text == WHERE_BY and lm.calls > 0


@pytest.mark.parametrize("backend", BEAMS)
def test_lm_score_is_the_unweighted_sentence_score_of_the_final_text(wav2vec2, backend):
    vocab, logits = wav2vec2
    lm = PrefersWhereBy()
    hyp = build_decoder(backend, vocab, beam_width=16, lm=lm, alpha=1.0, beta=0.5,
                        num_workers=1).decode(logits)[0][0]
    assert hyp.lm_score == pytest.approx(lm.score_sentence(hyp.text))
    assert hyp.score == pytest.approx(hyp.am_score + 1.0 * hyp.lm_score + 0.5 * len(hyp.words))


@pytest.mark.parametrize("backend", BEAMS)
def test_the_librispeech_kenlm_keeps_the_reference_and_scores_it_in_lowercase(wav2vec2, libri_lm, backend):
    vocab, logits = wav2vec2
    decoder = build_decoder(backend, vocab, beam_width=32, lm=libri_lm, alpha=0.5, beta=1.0, num_workers=1)
    hyp = decoder.decode(logits)[0][0]
    assert hyp.text == WHEREBY
    assert hyp.lm_score == pytest.approx(libri_lm.score_sentence(WHEREBY.lower()))
    assert hyp.score == pytest.approx(hyp.am_score + 0.5 * hyp.lm_score + 1.0 * len(hyp.words), abs=1e-3)


@pytest.mark.parametrize("backend", BEAMS)
def test_a_path_and_a_kenlm_object_give_the_same_hypotheses(shared, wav2vec2, libri_lm, backend):
    vocab, logits = wav2vec2
    path = shared.path("librispeech-lm/3-gram.pruned.arpa")
    by_path = build_decoder(backend, vocab, beam_width=8, lm=str(path), num_workers=1).decode(logits, nbest=2)
    by_object = build_decoder(backend, vocab, beam_width=8, lm=libri_lm, num_workers=1).decode(logits, nbest=2)
    assert by_path == by_object


@pytest.mark.parametrize("backend", BEAMS)
def test_hotwords_still_work_with_a_custom_lm(wav2vec2, backend):
    vocab, logits = wav2vec2
    decoder = build_decoder(backend, vocab, beam_width=16, lm=NullLM(), hotwords=["WHERE", "BY"],
                            hotword_weight=10.0, num_workers=1)
    assert decoder.decode(logits)[0][0].text == WHERE_BY


@pytest.mark.parametrize("backend", BEAMS)
def test_an_lm_in_another_alphabet_is_refused(wav2vec2, backend):
    class Greek(FlatLM):
        unigrams = ("αβγ", "δέλτα")

    with pytest.raises(LanguageModelError, match="none of the 2 words of Greek.*do not share an alphabet"):
        build_decoder(backend, wav2vec2[0], lm=Greek())


@pytest.mark.parametrize("backend", BEAMS)
def test_a_vocabulary_without_word_delimiter_cannot_use_a_word_lm(shared, backend):
    vocab = Vocabulary.from_labels(["<pad>", "A", "B"], word_delimiter=None)
    with pytest.raises(LanguageModelError, match="needs a vocabulary with a word delimiter"):
        build_decoder(backend, vocab, lm=str(shared.path("kenlm/test.arpa")))


@pytest.mark.parametrize("backend", BEAMS)
def test_non_finite_scores_from_a_custom_lm_fail_the_decode_naming_the_word(wav2vec2, backend):
    class NaNLM(PrefersWhereBy):
        def score(self, state, word):
            return (float("nan") if word == "POPULAR" else -1.0), ()

    decoder = build_decoder(backend, wav2vec2[0], beam_width=4, lm=NaNLM(), num_workers=1)
    with pytest.raises(LanguageModelError, match="NaNLM returned the non-finite score nan.*'POPULAR'"):
        decoder.decode(wav2vec2[1])


@pytest.mark.parametrize("backend", BEAMS)
def test_a_custom_lm_missing_a_method_is_refused_at_build_time(wav2vec2, backend):
    class NoEnd:
        order = 2

        def begin(self):
            return ()

        def score(self, state, word):
            return 0.0, ()

    with pytest.raises(LanguageModelError, match=r"NoEnd (does not implement end\(state\)|lacks end)"):
        build_decoder(backend, wav2vec2[0], lm=NoEnd())


@pytest.mark.parametrize("backend", BEAMS)
def test_a_missing_lm_file_is_a_missing_file_error(wav2vec2, tmp_path, backend):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_decoder(backend, wav2vec2[0], lm=str(tmp_path / "none.arpa"))


# ---------------------------------------------------------------- the adapter itself
@pytest.mark.extra("pyctcdecode")
def test_adapter_word_score_is_alpha_logp_plus_beta_plus_unk_offset(libri_lm):
    from ctcdecode_kit.lm import PyctcdecodeLM

    adapter = PyctcdecodeLM(libri_lm, alpha=0.5, beta=2.0, unk_score_offset=-7.0, case="lower")
    start = adapter.get_start_state()
    known, _ = adapter.score(start, "the")
    assert known == pytest.approx(0.5 * libri_lm.score(libri_lm.begin(), "the")[0] + 2.0)
    unknown, _ = adapter.score(start, "zzqxw")
    assert unknown == pytest.approx(0.5 * libri_lm.score(libri_lm.begin(), "zzqxw")[0] + 2.0 - 7.0)


@pytest.mark.extra("pyctcdecode")
def test_adapter_adds_the_end_of_sentence_and_scores_an_empty_last_word_as_end_only(libri_lm):
    from ctcdecode_kit.lm import PyctcdecodeLM

    adapter = PyctcdecodeLM(libri_lm, alpha=1.0, beta=0.0, unk_score_offset=-10.0)
    _, state = adapter.score(adapter.get_start_state(), "the")
    end_only, same = adapter.score(state, "", is_last_word=True)
    assert end_only == pytest.approx(libri_lm.end(state)) and same is state


@pytest.mark.extra("pyctcdecode")
def test_adapter_partial_words_use_the_unigram_prefixes(libri_lm):
    from ctcdecode_kit.lm import PyctcdecodeLM

    adapter = PyctcdecodeLM(libri_lm, alpha=0.5, beta=1.0, unk_score_offset=-10.0)
    assert adapter.score_partial_token("contriv") == 0.0
    assert adapter.score_partial_token("zzq") == -10.0
    assert adapter.score_partial_token("zzqxwvzz") == pytest.approx(-10.0 * 8 / 6)


@pytest.mark.extra("pyctcdecode")
def test_adapter_for_an_lm_without_unigrams_charges_no_partial_or_unknown_penalty():
    from ctcdecode_kit.lm import PyctcdecodeLM

    adapter = PyctcdecodeLM(PrefersWhereBy(), alpha=1.0, beta=0.0, unk_score_offset=-10.0)
    assert adapter.score_partial_token("QQQ") == 0.0
    assert adapter.score((), "QQQ")[0] == pytest.approx(-10.0)


@pytest.mark.extra("pyctcdecode")
def test_pyctcdecode_language_model_reports_the_lm_case(wav2vec2, libri_lm):
    from ctcdecode_kit.lm import pyctcdecode_language_model

    adapter, case = pyctcdecode_language_model(libri_lm, vocabulary=wav2vec2[0], alpha=0.5, beta=1.0,
                                               unk_score_offset=-10.0)
    assert case == "lower" and adapter.order == 3
    assert adapter.sentence_log_prob("THE CAT") == pytest.approx(libri_lm.score_sentence("the cat"))
    assert math.isfinite(adapter.sentence_log_prob(""))


@pytest.mark.parametrize("backend", BEAMS)
def test_an_empty_hypothesis_gets_the_end_of_sentence_lm_score(wav2vec2, libri_lm, backend):
    vocab = wav2vec2[0]
    blanks = np.full((3, len(vocab)), -20.0, np.float32)
    blanks[:, vocab.blank] = 0.0
    hyp = build_decoder(backend, vocab, lm=libri_lm, num_workers=1).decode(blanks)[0][0]
    assert hyp.text == "" and hyp.lm_score == pytest.approx(libri_lm.end(libri_lm.begin()))


@pytest.mark.parametrize("backend", BEAMS)
def test_an_lm_whose_words_the_vocabulary_can_rarely_spell_warns(wav2vec2, backend):
    class MostlyGreek(PrefersWhereBy):
        unigrams = ("THE",) + tuple(f"Λ{i}" for i in range(99))

    with pytest.warns(UserWarning, match="only 1 of the 100 words of MostlyGreek"):
        build_decoder(backend, wav2vec2[0], lm=MostlyGreek(), num_workers=1)
