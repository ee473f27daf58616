"""The decoder registry and the common Decoder interface."""

from __future__ import annotations

import numpy as np
import pytest

from ctcdecode_kit import Decoder, Vocabulary, build_decoder, list_decoders, register_decoder
from ctcdecode_kit.decoders.greedy import GreedyDecoder
from ctcdecode_kit.errors import InputError, UnknownDecoderError
from tests.conftest import backend_params

VOCAB = Vocabulary.from_labels(["<pad>", "|", "A", "B"])


def test_builtin_decoders_are_listed():
    assert {"greedy", "pyctcdecode", "native", "rescore"} <= set(list_decoders())


def test_unknown_decoder_lists_known_names():
    with pytest.raises(UnknownDecoderError, match="unknown decoder 'beem'.*greedy.*pyctcdecode"):
        build_decoder("beem", VOCAB)


def test_unknown_option_lists_valid_options():
    with pytest.raises(InputError, match="does not take option.*beam_widht.*valid options:.*beam_width"):
        build_decoder("pyctcdecode", VOCAB, beam_widht=3)


def test_vocabulary_may_be_given_as_labels_or_path(shared):
    assert build_decoder("greedy", ["<pad>", "|", "A"]).vocabulary.tokens == ("<pad>", "|", "A")
    assert len(build_decoder("greedy", shared.path("wav2vec2-logits/vocab.json")).vocabulary) == 32


def test_register_decoder_makes_a_user_backend_buildable_by_name():
    class Shouty(GreedyDecoder):
        def _decode_batch(self, batch, nbest):
            return [[h.__class__(h.text + "!", h.tokens, h.score, h.am_score) for h in hyps]
                    for hyps in super()._decode_batch(batch, nbest)]

    register_decoder("test-shouty", Shouty, overwrite=True)
    decoder = build_decoder("test-shouty", VOCAB)
    assert isinstance(decoder, Decoder)
    logits = np.log(np.array([[0.1, 0.1, 0.7, 0.1]]))
    assert decoder.decode(logits)[0][0].text == "A!"


def test_register_decoder_refuses_silent_replacement():
    register_decoder("test-once", GreedyDecoder, overwrite=True)
    with pytest.raises(InputError, match="already registered"):
        register_decoder("test-once", lambda v: None)


@pytest.mark.parametrize("name", ["", "a b", "x+lm"])
def test_register_decoder_refuses_bad_names(name):
    with pytest.raises(InputError, match="decoder name"):
        register_decoder(name, GreedyDecoder)


@pytest.mark.parametrize("name", backend_params("greedy", "pyctcdecode", "native", "rescore"))
def test_every_decoder_returns_one_nbest_list_per_utterance(name):
    logits = np.random.default_rng(1).normal(size=(3, 8, 4)).astype(np.float32)
    out = build_decoder(name, VOCAB).decode(logits, [8, 5, 0], nbest=2)
    assert len(out) == 3 and all(1 <= len(hyps) <= 2 for hyps in out)
    assert out[2][0].text == "" and out[2][0].tokens == ()


@pytest.mark.parametrize("name", backend_params("greedy", "pyctcdecode", "native", "rescore"))
def test_nbest_below_one_is_refused(name):
    with pytest.raises(InputError, match="nbest must be >= 1"):
        build_decoder(name, VOCAB).decode(np.zeros((2, 4), np.float32), nbest=0)


def test_importing_the_kit_and_its_beam_backends_does_not_import_torch():
    """Worker processes and CLI start-up do not pay for torch (about 1 s and 200 MB) unless needed."""
    import subprocess
    import sys

    code = (
        "import sys, ctcdecode_kit, ctcdecode_kit.decoders.native, ctcdecode_kit.decoders.pyctcdecode, "
        "ctcdecode_kit.lm, ctcdecode_kit.alignment; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
