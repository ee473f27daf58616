"""Lexicon-constrained decoding in the native backend: words come only from the lexicon."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.decoder import decoder_option_names
from ctcdecode_kit.errors import InputError, VocabularyError
from ctcdecode_kit.lexicon import Lexicon
from tests.conftest import FlatLM, require_module

native = require_module("ctcdecode_kit.decoders.native")


def emissions(vocab: Vocabulary, tokens: list[int], peak: float = 0.9) -> np.ndarray:
    """Log-probs spelling ``tokens``: each token for 2 frames, then a blank frame."""
    frames = []
    for tok in tokens:
        frames += [tok, tok, vocab.blank]
    x = np.full((len(frames), len(vocab)), (1 - peak) / (len(vocab) - 1), dtype=np.float64)
    x[np.arange(len(frames)), frames] = peak
    return np.log(x).astype(np.float32)


@pytest.fixture(scope="module")
def ta_vocab(shared):
    tokens = shared.path("torchaudio/tokens.txt").read_text().split()
    return Vocabulary.from_labels(tokens, blank="-", word_delimiter="|")


@pytest.fixture(scope="module")
def ta_lexicon(shared):
    return Lexicon.from_file(shared.path("torchaudio/lexicon.txt"))


def spell(vocab: Vocabulary, text: str) -> list[int]:
    return vocab.encode(text)


# ---------------------------------------------------------------- torchaudio's assets
def test_torchaudio_lexicon_decodes_its_words(ta_vocab, ta_lexicon, shared):
    x = emissions(ta_vocab, spell(ta_vocab, "foo bar foobar"))
    for lm in (None, str(shared.path("torchaudio/kenlm.arpa"))):
        hyp = build_decoder("native", ta_vocab, lexicon=ta_lexicon, lm=lm).decode(x)[0][0]
        assert hyp.text == "foo bar foobar"
        assert ta_vocab.text(hyp.tokens) == hyp.text


def test_lexicon_that_forbids_the_greedy_word_yields_a_lexicon_word(ta_vocab, ta_lexicon):
    x = emissions(ta_vocab, spell(ta_vocab, "foo baf"))
    greedy = build_decoder("greedy", ta_vocab).decode(x)[0][0].text
    assert greedy == "foo baf"
    hyp = build_decoder("native", ta_vocab, lexicon=ta_lexicon).decode(x)[0][0]
    assert hyp.text.split()[0] == "foo"
    assert set(hyp.text.split()) <= set(ta_lexicon.words)
    assert hyp.text != greedy


def test_unknown_word_score_allows_out_of_lexicon_words_at_a_price(ta_vocab, ta_lexicon):
    x = emissions(ta_vocab, spell(ta_vocab, "foo baf"))
    allowed = build_decoder("native", ta_vocab, lexicon=ta_lexicon, unknown_word_score=0.0).decode(x)[0][0]
    assert allowed.text == "foo baf"
    assert [w.text for w in allowed.words] == ["foo", "baf"]
    costly = build_decoder("native", ta_vocab, lexicon=ta_lexicon, unknown_word_score=-50.0).decode(x)[0][0]
    assert set(costly.text.split()) <= set(ta_lexicon.words)
    # the price is paid once per unknown word, on top of the acoustic score
    assert allowed.score == pytest.approx(allowed.am_score)


def test_lexicon_nbest_and_word_frames(ta_vocab, ta_lexicon):
    x = emissions(ta_vocab, spell(ta_vocab, "foo bar"), peak=0.6)
    hyps = build_decoder("native", ta_vocab, lexicon=ta_lexicon, nbest=4).decode(x)[0]
    assert len(hyps) == 4
    texts = [h.text for h in hyps]
    assert len(set(texts)) == len(texts)
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
    best = hyps[0]
    assert best.text == "foo bar"
    # "f o o" occupies frames 0..8 (o blank o), "|" 9..11, "b a r" 12..20
    assert [(w.text, w.start_frame, w.end_frame) for w in best.words] == [("foo", 0, 8), ("bar", 12, 20)]
    timed = build_decoder("native", ta_vocab, lexicon=ta_lexicon, frame_rate=50).decode(x)[0][0]
    assert timed.words[1].start_time == pytest.approx(12 / 50)


def test_lexicon_with_a_word_lm_prefers_the_lm_s_word(ta_vocab):
    # "bar" and "baa" spelled equally well (one "a|r" frame each); the LM breaks the tie
    class PreferBaa(FlatLM):
        def score(self, state, word):
            return (-0.1 if word == "baa" else -5.0), ()

    lexicon = {"bar": [["b", "a", "r"]], "baa": [["b", "a", "a"]]}
    x = emissions(ta_vocab, spell(ta_vocab, "ba"))
    last = np.log(np.full((1, len(ta_vocab)), 0.02))
    last[0, ta_vocab.tokens.index("r")] = last[0, ta_vocab.tokens.index("a")] = np.log(0.45)
    x = np.concatenate([x[:-1], last.astype(np.float32), x[-1:]])
    hyp = build_decoder("native", ta_vocab, lexicon=lexicon, lm=PreferBaa(), alpha=1.0).decode(x)[0][0]
    assert hyp.text == "baa"
    hyp = build_decoder("native", ta_vocab, lexicon=lexicon, lm=FlatLM()).decode(x)[0][0]
    assert hyp.text in ("bar", "baa")


# ---------------------------------------------------------------- phoneme vocabularies
PHONES = ["<pad>", " ", "h", "ə", "l", "oʊ", "w", "ɜː", "d", "ɹ", "iː", "ɛ", "<wb>", "<blank>"]


def test_phoneme_vocabulary_with_multicharacter_tokens_and_wb_delimiter():
    vocab = Vocabulary.from_labels(PHONES, blank="<blank>", word_delimiter="<wb>")
    assert (vocab.blank, vocab.word_delimiter) == (13, 12)
    assert {0, 1} <= vocab.special  # <pad> and the stray ' ' never reach text
    lexicon = {
        "hello": ["h ə l oʊ <wb>"],
        "world": ["w ɜː l d"],
        "read": ["ɹ iː d", "ɹ ɛ d"],  # two pronunciations
        "red": ["ɹ ɛ d <wb>"],  # a homophone of one of them
    }
    ids = [PHONES.index(p) for p in ["h", "ə", "l", "oʊ", "<wb>", "w", "ɜː", "l", "d", "<wb>", "ɹ", "iː", "d"]]
    x = emissions(vocab, ids)
    assert build_decoder("greedy", vocab).decode(x)[0][0].text == "həloʊ wɜːld ɹiːd"
    hyp = build_decoder("native", vocab, lexicon=lexicon).decode(x)[0][0]
    assert hyp.text == "hello world read"
    assert [w.text for w in hyp.words] == ["hello", "world", "read"]
    assert list(hyp.tokens) == ids

    class PreferRed(FlatLM):
        def score(self, state, word):
            return (-0.5 if word == "red" else -3.0), ()

    homophone = [PHONES.index(p) for p in ["ɹ", "ɛ", "d"]]
    hyps = build_decoder("native", vocab, lexicon=lexicon, lm=PreferRed(), alpha=1.0, nbest=2).decode(
        emissions(vocab, homophone)
    )[0]
    assert [h.text for h in hyps] == ["red", "read"]  # same tokens, the LM orders the homophones
    assert hyps[0].tokens == hyps[1].tokens


@pytest.mark.parametrize(("lexicon_token_logp", "expected"), [(-5.5, "cat a cat sat"), (-20.0, "cat cat sat")])
def test_a_mispronounced_word_does_not_drop_the_rest_of_the_utterance(lexicon_token_logp, expected):
    # The lexicon says "a" is /eɪ/, the audio says /ə/ (as espeak-ng vs hama on LibriSpeech
    # 1221-135766-0001). At that frame /ə/ is the only token above token_min_logp (-5), and it
    # starts a lexicon word ("affect") that the audio never finishes. Regression: every beam
    # was forced into that dead end, lived on blanks, and the end of the utterance dropped
    # the unfinished word with everything after it: "cat" instead of "cat ... cat sat".
    phones = ["<pad>", "k", "æ", "t", "s", "ə", "f", "ɛ", "eɪ", "<wb>", "<blank>"]
    vocab = Vocabulary.from_labels(phones, blank="<blank>", word_delimiter="<wb>")
    lexicon = {"cat": ["k æ t"], "sat": ["s æ t"], "a": ["eɪ"], "affect": ["ə f ɛ k t"]}
    frames = "k k _ æ _ t _ <wb> ə _ <wb> k _ æ _ t _ <wb> s _ æ _ t _".split()
    x = np.full((len(frames), len(phones)), np.exp(-12.0))
    x[:, [phones.index("f"), phones.index("ɛ")]] = np.exp(-25.0)  # "affect" is nowhere near
    for t, ph in enumerate(frames):
        x[t, vocab.blank if ph == "_" else phones.index(ph)] = 1.0
        if ph == "ə":  # the blank and the lexicon's /eɪ/ are both below token_min_logp
            x[t, vocab.blank], x[t, phones.index("eɪ")] = np.exp(-6.5), np.exp(lexicon_token_logp)
        x[t] /= x[t].sum()
    logits = np.log(x).astype(np.float32)
    assert build_decoder("greedy", vocab).decode(logits)[0][0].text == "kæt ə kæt sæt"
    hyp = build_decoder("native", vocab, lexicon=lexicon, beam_width=50).decode(logits)[0][0]
    # /eɪ/ near the best beam is tried although below token_min_logp; far below it, /ə/ is
    # read as a blank; never as the start of "affect"
    assert hyp.text == expected
    assert [(w.text, w.end_frame) for w in hyp.words][-1] == ("sat", len(frames) - 1)


# ---------------------------------------------------------------- real logits, LibriSpeech words.lst
def test_real_logits_with_words_lst_give_only_lexicon_words(shared):
    vocab = shared.wav2vec2_vocab()
    logits = shared.wav2vec2_logits()
    reference = shared.wav2vec2_reference().split()
    lexicon = Lexicon.from_file(shared.path("librispeech-lm/words.lst"))
    lm = str(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    known = {w.upper() for w in lexicon.words}
    assert "CONTRIVANCE" in reference and "CONTRIVANCE" not in known
    hyp = build_decoder("native", vocab, lexicon=lexicon, lm=lm).decode(logits)[0][0]
    words = hyp.text.split()
    assert set(words) <= known
    # every reference word the lexicon knows comes out right; "contrivance" cannot
    assert [w for w in reference if w != "CONTRIVANCE"] == [w for w in words if w in reference]
    assert vocab.text(hyp.tokens) == hyp.text
    # with unknown words allowed at a moderate price, the reference is reached exactly
    free = build_decoder("native", vocab, lexicon=lexicon, lm=lm, unknown_word_score=-5.0).decode(logits)[0][0]
    assert free.text.split() == reference


def test_lm_lookahead_leaves_no_trace_in_final_scores(shared):
    # score = acoustic + alpha * ln P(words, </s>) + beta per word, with or without the look-ahead
    vocab = shared.wav2vec2_vocab()
    logits = shared.wav2vec2_logits()
    lm = str(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    lexicon = Lexicon.from_file(shared.path("librispeech-lm/words.lst"))
    for lookahead in (True, False):
        decoder = build_decoder("native", vocab, lexicon=lexicon, lm=lm, alpha=0.7, beta=0.4, lm_lookahead=lookahead, nbest=3)
        for hyp in decoder.decode(logits)[0]:
            expected = hyp.am_score + 0.7 * hyp.lm_score + 0.4 * len(hyp.words)
            assert hyp.score == pytest.approx(expected, abs=1e-3)


# ---------------------------------------------------------------- options, errors, threads
def test_lexicon_option_is_listed_and_kept_by_with_options(ta_vocab, ta_lexicon):
    assert {"lexicon", "unknown_word_score", "lm_lookahead"} <= decoder_option_names("native")
    decoder = build_decoder("native", ta_vocab, lexicon=ta_lexicon)
    derived = decoder.with_options(unknown_word_score=-2.0)
    assert derived.lexicon is decoder.lexicon
    assert derived.unknown_word_score == -2.0 and decoder.unknown_word_score is None


def test_decoder_spec_with_a_lexicon_path(ta_vocab, shared):
    from ctcdecode_kit.runs.specs import parse_decoder_spec

    path = shared.path("torchaudio/lexicon.txt")
    spec = parse_decoder_spec(f"native:lexicon={path},unknown_word_score=-3")
    decoder = build_decoder(spec.backend, ta_vocab, **spec.options)
    assert decoder.lexicon.source == str(path) and decoder.unknown_word_score == -3


def test_bad_lexicon_line_names_file_and_line(ta_vocab, tmp_path):
    path = tmp_path / "lex.txt"
    path.write_text("foo f o o |\n\nbaz b a z |\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"lex\.txt'?, line 3 \('baz'\): token 'z' is not in the vocabulary"):
        build_decoder("native", ta_vocab, lexicon=path)


def test_lexicon_refusals(ta_vocab, ta_lexicon):
    with pytest.raises(InputError, match="unknown_word_score only applies with a lexicon"):
        build_decoder("native", ta_vocab, unknown_word_score=-1.0)
    no_delimiter = Vocabulary.from_labels(["-", "f", "o"], blank="-", word_delimiter=None)
    with pytest.raises(InputError, match="needs a vocabulary with a word delimiter"):
        build_decoder("native", no_delimiter, lexicon={"foo": ["f o o"]})
    with pytest.raises(InputError, match="lm_rules"):
        build_decoder("native", ta_vocab, lexicon=ta_lexicon, lm_rules="pyctcdecode")
    with pytest.raises(VocabularyError, match="lexicon must be a path"):
        build_decoder("native", ta_vocab, lexicon=42)


def test_lexicon_decoder_is_thread_safe(ta_vocab, ta_lexicon):
    rng = np.random.default_rng(1)
    batch = [np.log(rng.dirichlet(np.ones(len(ta_vocab)) * 0.3, size=40)).astype(np.float32) for _ in range(8)]
    decoder = build_decoder("native", ta_vocab, lexicon=ta_lexicon, unknown_word_score=-4.0, num_workers=1)
    expected = [decoder.decode(x)[0][0].text for x in batch]
    got: list[list[str]] = [[] for _ in range(4)]

    def work(k: int) -> None:
        got[k] = [decoder.decode(x)[0][0].text for x in batch]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(g == expected for g in got)
    # a batch on several native threads gives the same answers
    batched = build_decoder("native", ta_vocab, lexicon=ta_lexicon, unknown_word_score=-4.0, num_workers=3)
    assert [h[0].text for h in batched.decode(np.stack(batch))] == expected
