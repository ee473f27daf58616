"""The native (C++) beam-search backend: conformance with pyctcdecode, native ARPA LM, errors."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.errors import FileFormatError, InputError, LanguageModelError, MissingFileError
from tests.conftest import require_module

native = require_module("ctcdecode_kit.decoders.native")
ArpaLM = native.ArpaLM

LN10 = math.log(10.0)


# ---------------------------------------------------------------- shared fixtures
@pytest.fixture(scope="module")
def libri_lm_path(shared):
    return shared.path("librispeech-lm/3-gram.pruned.arpa")


@pytest.fixture(scope="module")
def libri_lm(libri_lm_path):
    return ArpaLM(libri_lm_path)


@pytest.fixture(scope="module")
def noisy_batch(shared):
    """Six noisy copies of the real wav2vec2 logits (noise on the raw logits, fixed seed)."""
    raw = shared.wav2vec2_logits()[0]
    rng = np.random.default_rng(7)
    return np.stack([raw + rng.normal(0, 3.0, raw.shape).astype(np.float32) for _ in range(6)])


def _pair(vocab, **options):
    return (
        build_decoder("pyctcdecode", vocab, num_workers=1, **options),
        build_decoder("native", vocab, num_workers=1, **options),
    )


# ---------------------------------------------------------------- conformance on real data
def test_real_wav2vec2_logits_beam_100_give_the_librispeech_reference(shared):
    decoder = build_decoder("native", shared.wav2vec2_vocab(), beam_width=100, frame_rate=50)
    hyps = decoder.decode(shared.wav2vec2_logits(), nbest=3)[0]
    assert hyps[0].text == shared.wav2vec2_reference()
    assert hyps[0].words[0].text == "ALSO" and hyps[0].words[0].start_time == hyps[0].words[0].start_frame / 50


def test_pyctcdecode_sample_with_blank_last_gives_the_known_sentence(shared):
    vocab = Vocabulary.from_labels(shared.LIBRI_LABELS)
    assert build_decoder("native", vocab).decode(shared.libri_logits())[0][0].text == shared.LIBRI_TEXT


@pytest.mark.extra("pyctcdecode")
def test_noisy_batch_without_lm_matches_pyctcdecode_text_scores_nbest_and_frames(shared, noisy_batch):
    py, nat = _pair(shared.wav2vec2_vocab(), beam_width=50, frame_rate=50)
    expected, got = py.decode(noisy_batch, nbest=5), nat.decode(noisy_batch, nbest=5)
    for want, have in zip(expected, got):
        assert [h.text for h in have] == [h.text for h in want]
        assert [h.words for h in have] == [h.words for h in want]
        assert [h.score for h in have] == pytest.approx([h.score for h in want], abs=1e-4)
        assert [h.am_score for h in have] == pytest.approx([h.am_score for h in want], abs=1e-4)
        assert [h.tokens for h in have] == [h.tokens for h in want]
    assert len({hyps[0].text for hyps in got}) > 1  # the noise really changes the hypotheses


@pytest.mark.extra("pyctcdecode", "kenlm")
def test_noisy_batch_with_the_librispeech_lm_matches_the_pyctcdecode_library(shared, noisy_batch, libri_lm_path):
    """Against pyctcdecode 0.5 itself (its KenLM wrapper, unigram rule and OOV offsets)."""
    pyctcdecode = require_module("pyctcdecode")
    from ctcdecode_kit.labels import pyctcdecode_labels, strip_private as _strip_private

    vocab = shared.wav2vec2_vocab()
    reference = pyctcdecode.build_ctcdecoder(
        pyctcdecode_labels(vocab, "lower"), kenlm_model_path=str(libri_lm_path), alpha=0.5, beta=1.0
    )
    exact = {"lm": str(libri_lm_path), "lm_rules": "pyctcdecode"}
    decoder = build_decoder("native", vocab, beam_width=30, alpha=0.5, beta=1.0, **exact)
    pruned = build_decoder("native", vocab, beam_width=30, prune_history=True, **exact)
    got = decoder.decode(noisy_batch, nbest=3)
    got_pruned = pruned.decode(noisy_batch[:2], nbest=3)
    for log_probs, have in zip(torch.log_softmax(torch.from_numpy(noisy_batch[:2]), -1).numpy(), got_pruned):
        want = reference.decode_beams(log_probs, beam_width=30, prune_history=True)[:3]
        assert [h.text for h in have] == [_strip_private(b[0]).upper() for b in want]
    for log_probs, have in zip(torch.log_softmax(torch.from_numpy(noisy_batch), -1).numpy(), got):
        want = reference.decode_beams(log_probs, beam_width=30)[:3]
        assert [h.text for h in have] == [_strip_private(b[0]).upper() for b in want]
        assert [h.score for h in have] == pytest.approx([b[4] for b in want], abs=1e-4)
        assert [h.am_score for h in have] == pytest.approx([b[3] for b in want], abs=1e-4)


def test_nbest_is_sorted_by_score_and_distinct(shared, noisy_batch):
    hyps = build_decoder("native", shared.wav2vec2_vocab(), beam_width=20).decode(noisy_batch[:1], nbest=10)[0]
    assert len(hyps) == 10
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
    assert len({h.text for h in hyps}) == 10


HOTWORDS = {"hotwords": ["PICNIC", "SEASONS"], "hotword_weight": 8.0}


def test_hotwords_change_the_output(shared, noisy_batch):
    vocab = shared.wav2vec2_vocab()
    plain = build_decoder("native", vocab, beam_width=30).decode(noisy_batch[:3])
    have = build_decoder("native", vocab, beam_width=30, **HOTWORDS).decode(noisy_batch[:3])
    assert [h[0].score for h in have] != [h[0].score for h in plain]


@pytest.mark.extra("pyctcdecode")
def test_hotwords_match_pyctcdecode(shared, noisy_batch):
    py, nat = _pair(shared.wav2vec2_vocab(), beam_width=30, **HOTWORDS)
    want, have = py.decode(noisy_batch[:3]), nat.decode(noisy_batch[:3])
    assert [h[0].text for h in have] == [h[0].text for h in want]
    assert [h[0].score for h in have] == pytest.approx([h[0].score for h in want], abs=1e-4)


def test_the_lm_maps_an_uppercase_vocabulary_to_the_lowercase_lm(shared, libri_lm):
    decoder = build_decoder("native", shared.wav2vec2_vocab(), beam_width=20, lm=libri_lm)
    hyp = decoder.decode(shared.wav2vec2_logits())[0][0]
    assert hyp.text.isupper() and len(hyp.words) >= 17
    lowercase = libri_lm.sentence_log10(hyp.text.lower().split()) * LN10
    assert hyp.lm_score == pytest.approx(lowercase, abs=1e-4)
    assert all(word.lower() in libri_lm and word not in libri_lm for word in hyp.text.split())
    assert build_decoder("native", shared.wav2vec2_vocab(), lm=libri_lm)._case == "lower"


# ---------------------------------------------------------------- invariants
def test_padded_batch_equals_each_utterance_alone(shared, noisy_batch):
    decoder = build_decoder("native", shared.wav2vec2_vocab(), beam_width=16, num_workers=2)
    lengths = [422, 300, 120, 0]
    padded = np.full((4, 422, 32), 9.0, np.float32)
    for i, n in enumerate(lengths):
        padded[i, :n] = noisy_batch[i, :n]
    together = [h[0] for h in decoder.decode(padded, lengths)]
    alone = [decoder.decode(noisy_batch[i, :n])[0][0] if n else None for i, n in enumerate(lengths)]
    assert [h.text for h in together[:3]] == [h.text for h in alone[:3]]
    assert together[3].text == "" and together[3].score == 0.0


def test_two_threads_give_the_same_hypotheses_as_one(shared, noisy_batch, libri_lm):
    vocab = shared.wav2vec2_vocab()
    one = build_decoder("native", vocab, beam_width=16, lm=libri_lm, num_workers=1).decode(noisy_batch, nbest=3)
    two = build_decoder("native", vocab, beam_width=16, lm=libri_lm, num_workers=2).decode(noisy_batch, nbest=3)
    assert one == two


def test_width_one_without_lm_equals_greedy_on_real_logits(shared, noisy_batch):
    vocab = shared.wav2vec2_vocab()
    greedy = build_decoder("greedy", vocab).decode(noisy_batch)
    beam = build_decoder("native", vocab, beam_width=1).decode(noisy_batch)
    assert [h[0].text for h in beam] == [h[0].text for h in greedy]


def test_speed_levers_keep_the_reference_on_clean_logits(shared):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    for options in ({"token_top_k": 2}, {"blank_skip_threshold": 0.95}, {"lm_cache": False}, {"beam_prune_logp": -5.0}):
        assert build_decoder("native", vocab, beam_width=50, **options).decode(logits)[0][0].text == (
            shared.wav2vec2_reference()
        ), options


# ---------------------------------------------------------------- native ARPA LM == KenLM
def test_arpa_lm_reproduces_kenlm_model_test_values(shared):
    lm = ArpaLM(shared.path("kenlm/test.arpa"))
    assert lm.order == 5
    assert lm.log10_scores(["looking"], eos=False) == pytest.approx([-0.4846522], abs=1e-6)
    assert lm.log10_scores("looking on a little".split(), eos=False) == pytest.approx(
        [-0.484652, -0.348837, -0.0155266, -0.00306122], abs=1e-6
    )


def test_arpa_lm_reproduces_the_librispeech_lm_provenance_values(libri_lm):
    scores = libri_lm.log10_scores("the cat sat on the mat".split())
    assert scores[:-1] == pytest.approx([-1.05971, -4.19448, -3.33383, -2.76726, -1.16237, -4.64589], abs=1e-5)
    assert sum(scores) == pytest.approx(-19.5123, abs=1e-4)


@pytest.mark.parametrize(
    "name",
    [
        "kenlm/test.arpa",
        "kenlm/test_nounk.arpa",
        "kenlm/toy0.arpa",
        "torchaudio/kenlm.arpa",
        "pyctcdecode/bugs_bunny_kenlm.arpa",
        "librispeech-lm/3-gram.pruned.arpa",
    ],
)
@pytest.mark.extra("kenlm")
def test_arpa_lm_equals_kenlm_on_random_sentences_with_unknown_words(shared, name, libri_lm):
    kenlm = require_module("kenlm")
    path = shared.path(name)
    lm = libri_lm if name.startswith("librispeech") else ArpaLM(path)
    reference = kenlm.Model(str(path))
    rng = random.Random(0)
    words = [w for w in path.read_text().split() if w.isalpha() and w.islower() and w != "ngram"][:4000]
    words += ["zzqx", "<unk>", "looking", "on", "a", "little", "the", "cat", "sat", "mat", "of"]
    ngrams = [line.split("\t")[1].split() for line in path.read_text().splitlines() if line.count("\t") >= 1]
    ngrams = [g for g in ngrams if len(g) >= 2 and "<s>" not in g[1:]]
    for i in range(150):
        sentence = [rng.choice(words) for _ in range(rng.randint(0, 10))]
        if ngrams and i % 2:  # splice real n-grams in: long matches, backoff chains, state minimisation
            for _ in range(rng.randint(1, 3)):
                at = rng.randint(0, len(sentence))
                sentence[at:at] = [w for w in rng.choice(ngrams) if w != "<s>"]
        text = " ".join(sentence)
        want = [s[0] for s in reference.full_scores(text, bos=True, eos=True)]
        assert lm.log10_scores(sentence) == pytest.approx(want, abs=1e-4), text
        assert lm.sentence_log10(sentence, bos=False, eos=False) == pytest.approx(
            reference.score(text, bos=False, eos=False), abs=1e-4
        )


@pytest.mark.extra("kenlm")
def test_arpa_lm_protocol_states_chain_like_kenlm(shared):
    kenlm = require_module("kenlm")
    path = shared.path("kenlm/test.arpa")
    lm, reference = ArpaLM(path), kenlm.Model(str(path))
    state, total = lm.begin(), 0.0
    for word in "looking on a little more loin".split():
        logp, state = lm.score(state, word)
        hash(state)
        total += logp
    total += lm.end(state)
    assert total == pytest.approx(reference.score("looking on a little more loin") * LN10, abs=1e-4)
    assert "looking" in lm and "zzqx" not in lm


def test_binary_image_of_an_arpa_lm_scores_and_decodes_the_same(shared, libri_lm, tmp_path):
    image = libri_lm.save_binary(tmp_path / "libri.ckbin")
    reloaded = ArpaLM(image)
    sentence = "the cat sat on the mat zzqx of".split()
    assert reloaded.log10_scores(sentence) == libri_lm.log10_scores(sentence)
    assert reloaded.listed_unigrams() == libri_lm.listed_unigrams() and reloaded.order == 3
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    assert (
        build_decoder("native", vocab, beam_width=20, lm=str(image)).decode(logits)[0][0]
        == build_decoder("native", vocab, beam_width=20, lm=libri_lm).decode(logits)[0][0]
    )
    corrupt = tmp_path / "corrupt.ckbin"
    corrupt.write_bytes(image.read_bytes()[:5000])
    with pytest.raises(FileFormatError, match="corrupt or truncated"):
        ArpaLM(corrupt)


def test_arpa_lm_refuses_a_missing_or_non_arpa_file(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        ArpaLM(tmp_path / "none.arpa")
    bad = tmp_path / "bad.arpa"
    bad.write_text("hello\nworld\n")
    with pytest.raises(FileFormatError, match="data"):
        ArpaLM(bad)
    truncated = tmp_path / "trunc.arpa"
    truncated.write_text("\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\ta\n")
    with pytest.raises(FileFormatError, match="ends inside"):
        ArpaLM(truncated)
    no_context = tmp_path / "no_context.arpa"
    no_context.write_text(
        "\\data\\\nngram 1=4\nngram 2=1\nngram 3=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n-1\t</s>\n-1\ta\t-0.3\n"
        "-1\tb\t-0.2\n\n\\2-grams:\n-0.5\tb a\n\n\\3-grams:\n-0.1\ta b a\n\n\\end\\\n"
    )
    with pytest.raises(FileFormatError, match="context of this 3-gram"):
        ArpaLM(no_context)
    kenlm_binary = tmp_path / "lm.binary"
    kenlm_binary.write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\x00\x00\x01")
    with pytest.raises(FileFormatError, match="KenLM binary"):
        ArpaLM(kenlm_binary)


# ---------------------------------------------------------------- Python LM callback path
class _PreferWord:
    """A toy LM: every word costs -5 except `favourite`, which is nearly free."""

    order = 2

    def __init__(self, favourite: str) -> None:
        self.favourite = favourite
        self.calls = 0

    def begin(self):
        return ()

    def score(self, state, word):
        self.calls += 1
        return (-0.01 if word == self.favourite else -5.0), (word,)

    def end(self, state):
        return -0.1


def _ambiguous_logits() -> tuple[Vocabulary, np.ndarray]:
    vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    probs = np.array([[0.05, 0.05, 0.5, 0.4], [0.8, 0.1, 0.05, 0.05]], np.float32)
    return vocab, np.log(probs)


def test_a_python_lm_that_prefers_a_word_changes_the_output():
    vocab, logits = _ambiguous_logits()
    assert build_decoder("native", vocab, beam_width=10).decode(logits)[0][0].text == "A"
    lm = _PreferWord("B")
    hyp = build_decoder("native", vocab, beam_width=10, lm=lm, alpha=1.0, beta=0.0).decode(logits)[0][0]
    assert hyp.text == "B" and lm.calls > 0
    assert hyp.lm_score == pytest.approx(-0.01 - 0.1)


def test_a_python_lm_with_unigrams_charges_the_unknown_word_offset():
    vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    logits = np.log(np.array([[0.05, 0.05, 0.4, 0.5], [0.8, 0.1, 0.05, 0.05]], np.float32))

    class Flat(_PreferWord):
        def score(self, state, word):
            return -1.0, (word,)

    class Listed(Flat):
        unigrams = ("A",)

    plain = build_decoder("native", vocab, beam_width=10, lm=Flat(""), alpha=1.0, beta=0.0)
    listed = build_decoder("native", vocab, beam_width=10, lm=Listed(""), alpha=1.0, beta=0.0)
    assert plain.decode(logits)[0][0].text == "B" and listed.decode(logits)[0][0].text == "A"


@pytest.mark.extra("pyctcdecode")
def test_a_python_lm_gives_the_same_answers_as_in_the_pyctcdecode_backend(shared, noisy_batch, libri_lm):
    vocab = shared.wav2vec2_vocab()

    class Wrapped:  # the native LM seen through the Python protocol only
        order, unigrams, case = libri_lm.order, tuple(libri_lm.listed_unigrams()), "lower"
        begin, score, end = libri_lm.begin, libri_lm.score, libri_lm.end

    py = build_decoder("pyctcdecode", vocab, beam_width=10, lm=Wrapped(), num_workers=1)
    nat = build_decoder("native", vocab, beam_width=10, lm=Wrapped())
    want, have = py.decode(noisy_batch[:3], nbest=2), nat.decode(noisy_batch[:3], nbest=2)
    assert [[h.text for h in hyps] for hyps in have] == [[h.text for h in hyps] for hyps in want]
    assert [h[0].score for h in have] == pytest.approx([h[0].score for h in want], abs=1e-4)


def test_a_python_lm_works_with_two_threads():
    vocab, logits = _ambiguous_logits()
    decoder = build_decoder("native", vocab, beam_width=10, lm=_PreferWord("B"), num_workers=2, alpha=1.0)
    assert [h[0].text for h in decoder.decode(np.stack([logits] * 4))] == ["B"] * 4


def test_errors_in_a_python_lm_surface_as_language_model_errors():
    vocab, logits = _ambiguous_logits()

    class Broken(_PreferWord):
        def score(self, state, word):
            raise KeyError("boom")

    class NotANumber(_PreferWord):
        def score(self, state, word):
            return float("nan"), state

    with pytest.raises(LanguageModelError, match="boom"):
        build_decoder("native", vocab, lm=Broken("B")).decode(logits)
    with pytest.raises(LanguageModelError, match="nan"):
        build_decoder("native", vocab, lm=NotANumber("B")).decode(logits)
    with pytest.raises(LanguageModelError, match="lacks"):
        build_decoder("native", vocab, lm=object())


# ---------------------------------------------------------------- option and input errors
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"beam_width": 0}, "beam_width"),
        ({"token_top_k": 0}, "token_top_k"),
        ({"blank_skip_threshold": 1.5}, "blank_skip_threshold"),
        ({"alpha": float("nan")}, "alpha"),
        ({"lm_case": "title"}, "lm_case"),
        ({"num_workers": 0}, "num_workers"),
    ],
)
def test_bad_options_are_refused_with_the_option_name(options, message):
    with pytest.raises(InputError, match=message):
        build_decoder("native", ["<pad>", "|", "A"], **options)


def test_an_lm_needs_word_boundaries(shared):
    with pytest.raises(LanguageModelError, match="delimiter"):
        build_decoder("native", ["<pad>", "A", "B"], lm=shared.path("kenlm/test.arpa"))


def test_bad_logits_are_refused_before_native_code():
    decoder = build_decoder("native", ["<pad>", "|", "A"])
    with pytest.raises(InputError, match="classes"):
        decoder.decode(np.zeros((4, 5), np.float32))
    with pytest.raises(InputError, match="NaN"):
        decoder.decode(np.full((4, 3), np.nan, np.float32))
    non_contiguous = np.asfortranarray(np.random.default_rng(0).normal(size=(6, 3)))
    assert decoder.decode(torch.from_numpy(non_contiguous.T.copy().T))[0][0].text == decoder.decode(non_contiguous)[0][0].text


def test_numpy_fast_path_and_general_input_path_give_the_same_hypotheses(shared, noisy_batch):
    decoder = build_decoder("native", shared.wav2vec2_vocab(), beam_width=16)
    fast = decoder.decode(noisy_batch[:3], [422, 200, 50], nbest=2)
    general = decoder.decode(torch.from_numpy(noisy_batch[:3]).double(), [422, 200, 50], nbest=2)
    assert [[h.text for h in hyps] for hyps in fast] == [[h.text for h in hyps] for hyps in general]


def test_probabilities_are_refused_unless_declared(shared):
    decoder = build_decoder("native", ["<pad>", "|", "A"])
    probs = np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]], np.float32)
    with pytest.raises(InputError, match="probabilities"):
        decoder.decode(probs)
    assert build_decoder("native", ["<pad>", "|", "A"], input_type="probs").decode(probs)[0][0].text == "A"


def test_default_lm_rules_are_the_kits(shared, libri_lm_path):
    assert build_decoder("native", shared.wav2vec2_vocab(), lm=str(libri_lm_path)).lm_rules == "kit"


@pytest.mark.extra("pyctcdecode")
def test_default_lm_rules_are_the_kits_and_agree_with_the_pyctcdecode_backend(shared, noisy_batch, libri_lm_path):
    vocab = shared.wav2vec2_vocab()
    native = build_decoder("native", vocab, beam_width=16, lm=str(libri_lm_path), num_workers=1)
    backend = build_decoder("pyctcdecode", vocab, beam_width=16, lm=str(libri_lm_path), num_workers=1)
    assert native.lm_rules == "kit"
    assert [h[0].text for h in native.decode(noisy_batch)] == [h[0].text for h in backend.decode(noisy_batch)]


def test_kit_lm_rules_on_an_arpa_file_equal_the_python_lm_path(shared, noisy_batch, libri_lm):
    vocab = shared.wav2vec2_vocab()

    class Wrapped:  # the kit's rule: every unigram of the ARPA file except <s>, </s>, <unk> is known
        order, case = libri_lm.order, "lower"
        begin, score, end = libri_lm.begin, libri_lm.score, libri_lm.end

    Wrapped.unigrams = tuple(_all_unigrams(shared.path("librispeech-lm/3-gram.pruned.arpa")))
    callback = build_decoder("native", vocab, beam_width=16, lm=Wrapped(), num_workers=1)
    native_kit = build_decoder("native", vocab, beam_width=16, lm=libri_lm, lm_rules="kit", num_workers=1)
    want, have = callback.decode(noisy_batch[:4], nbest=2), native_kit.decode(noisy_batch[:4], nbest=2)
    assert [[h.text for h in hyps] for hyps in have] == [[h.text for h in hyps] for hyps in want]
    assert [h[0].score for h in have] == pytest.approx([h[0].score for h in want], abs=1e-4)


def _all_unigrams(path):
    words, inside = [], False
    for line in path.read_text().splitlines():
        if line.startswith("\\1-grams:"):
            inside = True
        elif line.startswith("\\2-grams:"):
            break
        elif inside and line.strip():
            word = line.split()[1]
            if word not in ("<s>", "</s>", "<unk>"):
                words.append(word)
    return words


def test_a_kit_kenlm_object_is_decoded_natively_with_the_callback_paths_answers(shared, noisy_batch):
    lm_module = require_module("ctcdecode_kit.lm")
    kit_lm = lm_module.KenLM(shared.path("librispeech-lm/3-gram.pruned.arpa"))
    vocab = shared.wav2vec2_vocab()
    fast = build_decoder("native", vocab, beam_width=16, lm=kit_lm)
    assert fast._native_lm is not None and fast._py_lm is None

    class Opaque:  # the same model, only reachable through the protocol
        order, unigrams, case = kit_lm.order, kit_lm.unigrams, kit_lm.case
        begin, score, end = kit_lm.begin, kit_lm.score, kit_lm.end

    slow = build_decoder("native", vocab, beam_width=16, lm=Opaque())
    want, have = slow.decode(noisy_batch[:3], nbest=2), fast.decode(noisy_batch[:3], nbest=2)
    assert [[h.text for h in hyps] for hyps in have] == [[h.text for h in hyps] for hyps in want]
    assert [h[0].score for h in have] == pytest.approx([h[0].score for h in want], abs=1e-4)


def test_hotwords_are_matched_in_the_lms_letter_case(shared, noisy_batch, libri_lm):
    vocab = shared.wav2vec2_vocab()
    plain = build_decoder("native", vocab, beam_width=16, lm=libri_lm).decode(noisy_batch[:2])
    boosted = build_decoder("native", vocab, beam_width=16, lm=libri_lm, hotwords=["PICNIC"], hotword_weight=5.0)
    assert boosted._options.hotwords == ["picnic"]
    assert [h[0].score for h in boosted.decode(noisy_batch[:2])] != [h[0].score for h in plain]
