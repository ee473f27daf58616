"""transcribe(): audio files -> acoustic model -> decoder, word times in seconds."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from ctcdecode_kit import AcousticModel, build_decoder, transcribe
from ctcdecode_kit.errors import InputError


@pytest.fixture(scope="module")
def spelling_model(tiny_model_dir) -> AcousticModel:
    """A tiny model whose CTC head always prefers 'A' (then blank): every input reads 'A'."""
    model = AcousticModel.from_pretrained(tiny_model_dir, device="cpu")
    head = model.model.lm_head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-5.0)
        head.bias[model.vocabulary.tokens.index("A")] = 5.0
    return model


@pytest.fixture()
def wav_files(tmp_path):
    rng = np.random.default_rng(1)
    paths = []
    for name, seconds, rate in (("short.wav", 0.5, 16000), ("long.flac", 1.2, 8000), ("mid.wav", 0.8, 16000)):
        path = tmp_path / name
        sf.write(path, (0.1 * rng.standard_normal(int(seconds * rate))).astype(np.float32), rate)
        paths.append(path)
    return paths


def test_transcribe_returns_one_hypothesis_per_file_in_input_order(tiny_model_dir, wav_files):
    hyps = transcribe([str(p) for p in wav_files], model=str(tiny_model_dir), decoder="greedy", batch_size=2)
    model = AcousticModel.from_pretrained(tiny_model_dir, device="cpu")
    emissions = model.logits(wav_files, batch_size=2)
    expected = build_decoder("greedy", model.vocabulary).decode(emissions.logits, emissions.lengths)
    assert [h.text for h in hyps] == [n[0].text for n in expected]
    assert [h.tokens for h in hyps] == [n[0].tokens for n in expected]


def test_word_timestamps_are_in_seconds_at_the_model_frame_rate(spelling_model, wav_files):
    hyps = transcribe(wav_files, model=spelling_model)
    frames = spelling_model.output_lengths([16000 * 0.5, 16000 * 1.2, 16000 * 0.8]).tolist()
    assert [h.text for h in hyps] == ["A", "A", "A"]
    for hyp, n in zip(hyps, frames):
        word = hyp.words[0]
        assert (word.start_frame, word.end_frame) == (0, n)
        assert (word.start_time, word.end_time) == (0.0, pytest.approx(n / 50.0))


def test_decoder_instance_without_frame_rate_still_gets_times_in_seconds(spelling_model, wav_files):
    decoder = build_decoder("greedy", spelling_model.vocabulary)
    hyp = transcribe(wav_files[0], model=spelling_model, decoder=decoder)[0]
    assert hyp.words[0].end_time == pytest.approx(hyp.words[0].end_frame / 50.0)


def test_beam_decoder_by_name_takes_decoder_options(spelling_model, wav_files):
    hyps = transcribe(wav_files, model=spelling_model, decoder="native", beam_width=4)
    assert [h.text for h in hyps] == ["A", "A", "A"]
    assert hyps[0].words[0].start_time == 0.0


def test_waveforms_at_the_model_rate_are_accepted(spelling_model):
    assert transcribe([np.zeros(16000, np.float32)], model=spelling_model)[0].text == "A"


def test_decoder_options_with_a_built_decoder_are_refused(spelling_model, wav_files):
    decoder = build_decoder("greedy", spelling_model.vocabulary)
    with pytest.raises(InputError, match=r"\['beam_width'\] apply only to a decoder given by name"):
        transcribe(wav_files, model=spelling_model, decoder=decoder, beam_width=3)


def test_decoder_for_another_vocabulary_is_refused(spelling_model, wav_files):
    decoder = build_decoder("greedy", ["<pad>", "|", "A"])
    with pytest.raises(InputError, match="3 tokens but model"):
        transcribe(wav_files, model=spelling_model, decoder=decoder)


def test_device_for_an_already_loaded_model_is_refused(spelling_model, wav_files):
    with pytest.raises(InputError, match="already loaded"):
        transcribe(wav_files, model=spelling_model, device="cpu")


def test_decoder_spec_strings_go_through_the_one_spec_parser(spelling_model, wav_files, shared):
    lm = str(shared.path("kenlm/test.arpa"))
    for decoder, options in (("native:beam_width=4", {}), ("native+lm:beam_width=4", {"lm": lm}),
                             ("native", {"lm": lm, "beam_width": 4}), ("rescore", {"lm": lm, "beam_width": 4})):
        hyps = transcribe(wav_files, model=spelling_model, decoder=decoder, **options)
        assert [h.text for h in hyps] == ["A", "A", "A"], decoder


def test_an_option_the_decoder_would_ignore_is_refused(spelling_model, wav_files, shared):
    with pytest.raises(InputError, match="'greedy' takes no language model"):
        transcribe(wav_files, model=spelling_model, decoder="greedy", lm=str(shared.path("kenlm/test.arpa")))
    with pytest.raises(InputError, match="given both in spec"):
        transcribe(wav_files, model=spelling_model, decoder="native:hotwords=a", hotwords=["b"])
