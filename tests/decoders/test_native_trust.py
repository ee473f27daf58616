"""Issue 11 ("trust") for the native backend: emitted token ids, word frames, KenLM binaries,
thread safety, error labels, derived decoders."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.errors import LanguageModelError
from ctcdecode_kit.lm import LanguageModelBase
from tests.conftest import backend_params, require_module

native = require_module("ctcdecode_kit.decoders.native")


def _path_logits(vocab: Vocabulary, path: list[int], low: float = -8.0) -> np.ndarray:
    logits = np.full((len(path), len(vocab)), low, dtype=np.float32)
    logits[np.arange(len(path)), path] = 0.0
    return logits


@pytest.fixture(scope="module")
def noisy_batch(shared):
    raw = shared.wav2vec2_logits()[0]
    rng = np.random.default_rng(11)
    return np.stack([raw + rng.normal(0, 3.0, raw.shape).astype(np.float32) for _ in range(8)])


# ---------------------------------------------------------------- item 3: token ids
@pytest.mark.parametrize("name", backend_params("greedy", "native", "pyctcdecode"))
def test_subword_vocabulary_returns_the_emitted_ids_not_a_respelling(name):
    # "▁a" + "bc" spells "abc"; no greedy longest-match respelling can ("▁ab" leaves "c")
    vocab = Vocabulary.from_labels(["<pad>", "\u2581a", "bc", "\u2581ab"])
    hyp = build_decoder(name, vocab).decode(_path_logits(vocab, [1, 0, 2]))[0][0]
    assert (hyp.text, hyp.tokens) == ("abc", (1, 2))


@pytest.mark.parametrize("name", backend_params("greedy", "native", "pyctcdecode"))
def test_ambiguous_subword_spelling_keeps_the_path_tokens(name):
    # "▁a" + "b" and "▁ab" spell the same word; the path emitted the two pieces
    vocab = Vocabulary.from_labels(["<pad>", "\u2581a", "b", "\u2581ab"])
    hyp = build_decoder(name, vocab).decode(_path_logits(vocab, [1, 2]))[0][0]
    assert (hyp.text, hyp.tokens) == ("ab", (1, 2))


@pytest.mark.parametrize("name", backend_params("greedy", "native", "pyctcdecode"))
def test_espnet_space_token_separates_words(name):
    vocab = Vocabulary.from_labels(["<blank>", "<unk>", "<space>", "A", "B"])
    assert vocab.tokens[vocab.word_delimiter] == "<space>"
    hyp = build_decoder(name, vocab).decode(_path_logits(vocab, [3, 2, 4, 0]))[0][0]
    assert (hyp.text, hyp.tokens) == ("A B", (3, 2, 4))
    assert [w.text for w in hyp.words] == ["A", "B"]


def test_native_nbest_tokens_spell_each_hypothesis_on_real_logits(shared):
    vocab = shared.wav2vec2_vocab()
    for hyp in build_decoder("native", vocab, beam_width=32).decode(shared.wav2vec2_logits(), nbest=8)[0]:
        assert vocab.text(hyp.tokens) == hyp.text


# ---------------------------------------------------------------- item 8: word frames
def test_native_word_frames_equal_greedys_on_the_real_logits(shared):
    """Half-open spans on the best alignment: ALSO is (17, 34) for both (pyctcdecode said 33)."""
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    greedy = build_decoder("greedy", vocab).decode(logits)[0][0]
    beam = build_decoder("native", vocab, beam_width=50).decode(logits)[0][0]
    assert beam.text == greedy.text
    assert beam.words == greedy.words
    assert (beam.words[0].text, beam.words[0].start_frame, beam.words[0].end_frame) == ("ALSO", 17, 34)


def test_native_pyctcdecode_rules_keep_pyctcdecodes_own_frames(shared):
    vocab, logits = shared.wav2vec2_vocab(), shared.wav2vec2_logits()
    exact = build_decoder("native", vocab, beam_width=50, lm_rules="pyctcdecode").decode(logits)[0][0]
    assert (exact.words[0].start_frame, exact.words[0].end_frame) == (17, 33)


def test_native_word_frames_are_those_of_the_tokens_best_alignment(shared, noisy_batch):
    from ctcdecode_kit.alignment import align_tokens

    vocab = shared.wav2vec2_vocab()
    decoder = build_decoder("native", vocab, beam_width=50, num_workers=1)
    for logits, hyp in zip(noisy_batch, decoder.decode(noisy_batch)):
        best = align_tokens(logits, hyp[0].tokens, vocab)
        expected = vocab.words(best.tokens, best.starts, best.ends)
        assert [(w.text, w.start_frame, w.end_frame) for w in hyp[0].words] == [
            (w.text, w.start_frame, w.end_frame) for w in expected
        ]


# ---------------------------------------------------------------- item 4: KenLM binaries
@pytest.mark.parametrize("kind", ["probing", "trie"])
def test_native_reads_a_kenlm_binary_natively_with_the_arpas_answers(shared, kind, noisy_batch):
    vocab = shared.wav2vec2_vocab()
    arpa = shared.path("librispeech-lm/3-gram.pruned.arpa")
    binary = shared.path(f"kenlm-bin/librispeech-3gram-pruned.{kind}.bin")
    options = {"beam_width": 24, "alpha": 0.5, "beta": 1.0, "num_workers": 1}
    want = build_decoder("native", vocab, lm=arpa, **options).decode(noisy_batch[:3], nbest=3)
    decoder = build_decoder("native", vocab, lm=binary, **options)
    assert decoder._py_lm is None and decoder._native_lm is not None  # no KenLM callbacks
    have = decoder.decode(noisy_batch[:3], nbest=3)
    for a, b in zip(want, have):
        assert [h.text for h in a] == [h.text for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-3)
        assert [h.lm_score for h in a] == pytest.approx([h.lm_score for h in b], abs=1e-3)


# ---------------------------------------------------------------- item 5: threads
def _signature(hyps):
    return [[(h.text, h.tokens, round(h.score, 6), h.words) for h in nbest] for nbest in hyps]


def test_eight_threads_sharing_one_native_decoder_get_serial_results(shared, noisy_batch):
    vocab = shared.wav2vec2_vocab()
    decoder = build_decoder("native", vocab, beam_width=32, lm=shared.path("librispeech-lm/3-gram.pruned.arpa"))
    jobs = [(noisy_batch[i % 8 : i % 8 + 1], 1 + i % 5) for i in range(32)]  # different n-best sizes
    serial = [_signature(decoder.decode(x, nbest=k)) for x, k in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda job: _signature(decoder.decode(job[0], nbest=job[1])), jobs))
    assert threaded == serial
    assert all(len(result[0]) == k for result, (_, k) in zip(threaded, jobs))


# ---------------------------------------------------------------- item 10: error labels
class _Broken(LanguageModelBase):
    order = 2

    def begin(self):
        return ()

    def score(self, state, word):
        raise KeyError(word)

    def end(self, state):
        return 0.0


def test_a_failing_python_lm_is_reported_as_a_language_model_error():
    vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    decoder = build_decoder("native", vocab, lm=_Broken())
    with pytest.raises(LanguageModelError, match=r"custom LM _Broken raised KeyError in score\(state, word\) while scoring the word 'A'"):
        decoder.decode(_path_logits(vocab, [2, 1, 3]))


def test_an_internal_native_error_is_not_relabelled_as_a_language_model_error(monkeypatch):
    vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    decoder = build_decoder("native", vocab)

    def broken(*args, **kwargs):
        raise RuntimeError("internal failure")

    monkeypatch.setattr(native._native, "decode_batch", broken)
    with pytest.raises(RuntimeError, match="internal failure") as caught:
        decoder.decode(_path_logits(vocab, [2, 1, 3]))
    assert not isinstance(caught.value, LanguageModelError)


# ---------------------------------------------------------------- item 12 and derived decoders
def test_native_accepts_none_for_hotwords_like_pyctcdecode():
    vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    logits = _path_logits(vocab, [2, 1, 3])
    assert build_decoder("native", vocab, hotwords=None).decode(logits)[0][0].text == "A B"


def test_with_options_derives_a_decoder_sharing_the_loaded_lm(shared, noisy_batch):
    vocab = shared.wav2vec2_vocab()
    first = build_decoder("native", vocab, beam_width=16, lm=shared.path("librispeech-lm/3-gram.pruned.arpa"))
    before = _signature(first.decode(noisy_batch[:2]))
    second = first.with_options(alpha=2.0, beta=-1.0)
    assert second is not first and second._native_lm is first._native_lm  # loaded once
    assert (first.alpha, second.alpha, second.beta) == (0.5, 2.0, -1.0)
    assert _signature(first.decode(noisy_batch[:2])) == before
    fresh = build_decoder(
        "native", vocab, beam_width=16, lm=shared.path("librispeech-lm/3-gram.pruned.arpa"), alpha=2.0, beta=-1.0
    )
    assert _signature(second.decode(noisy_batch[:2])) == _signature(fresh.decode(noisy_batch[:2]))


def test_with_options_refuses_an_unknown_option():
    from ctcdecode_kit.errors import InputError

    decoder = build_decoder("native", ["<pad>", "|", "A"])
    with pytest.raises(InputError, match="does not take option"):
        decoder.with_options(alfa=1.0)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_native_reads_a_compressed_arpa_natively(shared, tmp_path, suffix, noisy_batch):
    import bz2
    import gzip
    import lzma

    arpa = shared.path("librispeech-lm/3-gram.pruned.arpa")
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
    packed = tmp_path / f"lm.arpa{suffix}"
    with opener(packed, "wb") as f:
        f.write(arpa.read_bytes())
    vocab = shared.wav2vec2_vocab()
    want = build_decoder("native", vocab, lm=arpa, beam_width=16).decode(noisy_batch[:2])
    decoder = build_decoder("native", vocab, lm=packed, beam_width=16)
    assert decoder._py_lm is None and decoder._native_lm is not None  # no KenLM callbacks
    have = decoder.decode(noisy_batch[:2])
    assert [h[0].text for h in have] == [h[0].text for h in want]
    assert [h[0].score for h in have] == pytest.approx([h[0].score for h in want], abs=1e-3)
