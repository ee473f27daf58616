"""Property tests (Hypothesis) that every decoder must satisfy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ctcdecode_kit import Vocabulary, build_decoder, list_decoders

VOCAB = Vocabulary.from_labels(["<pad>", "|", "A", "B", "C"])
NO_PRUNING = {"beam_prune_logp": -1e9, "token_min_logp": -1e9}
BEAM_BACKENDS = [name for name in ("pyctcdecode", "native") if name in list_decoders()]

logit_matrices = st.integers(1, 7).flatmap(
    lambda t: arrays(np.float32, (t, len(VOCAB)), elements=st.floats(-8, 8, width=32))
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _greedy():
    # input_type="logits": random matrices may happen to look like probabilities
    return build_decoder("greedy", VOCAB, input_type="logits")


def _beam(name: str, **options):
    try:
        return build_decoder(name, VOCAB, num_workers=1, input_type="logits", **options)
    except ImportError as exc:  # native backend not compiled in this environment
        pytest.skip(f"{name} unavailable: {exc}")


@pytest.mark.parametrize("backend", BEAM_BACKENDS)
@SETTINGS
@given(logits=logit_matrices)
def test_beam_width_one_without_lm_equals_greedy(backend, logits):
    greedy = _greedy().decode(logits)[0][0]
    beam = _beam(backend, beam_width=1, **NO_PRUNING).decode(logits)[0][0]
    assert beam.text == greedy.text


@pytest.mark.parametrize("backend", BEAM_BACKENDS)
@SETTINGS
@given(logits=logit_matrices)
def test_beam_top_score_is_at_least_the_greedy_path_score(backend, logits):
    greedy = _greedy().decode(logits)[0][0]
    beam = _beam(backend, beam_width=2000, **NO_PRUNING).decode(logits)[0][0]
    assert beam.score >= greedy.score - 1e-4


@pytest.mark.parametrize("name", ["greedy", *BEAM_BACKENDS])
@SETTINGS
@given(data=st.data())
def test_decoding_is_independent_of_batch_composition_and_padding(name, data):
    t = data.draw(st.lists(st.integers(0, 6), min_size=1, max_size=4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    utts = [rng.normal(scale=3, size=(n, len(VOCAB))).astype(np.float32) for n in t]
    pad = data.draw(st.integers(0, 3))
    batch = np.full((len(utts), max(t) + pad, len(VOCAB)), 7.0, np.float32)  # loud padding
    for i, u in enumerate(utts):
        batch[i, : len(u)] = u
    decoder = _greedy() if name == "greedy" else _beam(name, beam_width=8)
    together = [h[0].text for h in decoder.decode(batch, t)]
    alone = [decoder.decode(u)[0][0].text if len(u) else "" for u in utts]
    assert together == alone


@pytest.mark.parametrize("name", ["greedy", *BEAM_BACKENDS])
@SETTINGS
@given(logits=logit_matrices)
def test_text_round_trips_through_tokens_and_uses_only_the_alphabet(name, logits):
    decoder = _greedy() if name == "greedy" else _beam(name, beam_width=4)
    for hyp in decoder.decode(logits, nbest=3)[0]:
        assert VOCAB.text(hyp.tokens) == hyp.text
        assert set(hyp.text) <= {"A", "B", "C", " "}
        assert hyp.text == " ".join(w.text for w in hyp.words)


@given(text=st.text(alphabet="ABC ", max_size=20))
def test_encode_then_text_normalises_whitespace_only(text):
    assert VOCAB.text(VOCAB.encode(text)) == " ".join(text.split())
