"""One decoder-spec parser and one option builder for compare, tune, decode and transcribe
(issue 11 item 7: CLI parity; an option a decoder does not use is an error, never ignored)."""

from __future__ import annotations

import json

import pytest

from ctcdecode_kit import Vocabulary
from ctcdecode_kit.errors import InputError, UnknownDecoderError
from ctcdecode_kit.runs.specs import (
    SharedSettings,
    build_from_spec,
    check_settings_used,
    decoder_options,
    parse_decoder_spec,
    single_decoder_spec,
)

VOCAB = Vocabulary.from_labels(["<pad>", "|", "A", "B"])


# ------------------------------------------------------------------ the parser and the builder
@pytest.mark.parametrize(
    "text, backend, use_lm, options",
    [
        ("greedy", "greedy", False, {}),
        ("native+lm", "native", True, {}),
        ("rescore", "rescore", True, {}),
        (" pyctcdecode+lm:beam_width=8,prune_history=true,lm_case=none ", "pyctcdecode", True,
         {"beam_width": 8, "prune_history": True, "lm_case": None}),
        ("native:token_min_logp=-4.5,lm_rules=kit", "native", False, {"token_min_logp": -4.5, "lm_rules": "kit"}),
    ],
)
def test_spec_parses_name_lm_flag_and_typed_options(text, backend, use_lm, options):
    spec = parse_decoder_spec(text)
    assert (spec.backend, spec.use_lm, spec.options, spec.label) == (backend, use_lm, options, text.strip())


@pytest.mark.parametrize(
    "text, error, message",
    [
        ("beem", UnknownDecoderError, "unknown decoder 'beem'.*valid names"),
        ("native+kenlm", InputError, "only '\\+lm'"),
        ("native:beam_width", InputError, "key=value"),
        ("native:beam_width=3,beam_width=4", InputError, "twice"),
        ("", InputError, "non-empty"),
    ],
)
def test_malformed_spec_is_refused(text, error, message):
    with pytest.raises(error, match=message):
        parse_decoder_spec(text)


def test_defaults_apply_only_where_nothing_was_given():
    spec = parse_decoder_spec("pyctcdecode+lm")
    assert decoder_options(spec, SharedSettings(lm="x.arpa")) == {"beam_width": 100, "lm": "x.arpa", "alpha": 0.5, "beta": 1.0}
    given = SharedSettings(lm="x.arpa", alpha=0.0, beta=0.0, beam_width=7)
    assert decoder_options(spec, given) == {"beam_width": 7, "lm": "x.arpa", "alpha": 0.0, "beta": 0.0}
    assert SharedSettings().given() == [] and SharedSettings(alpha=0.5).given() == ["alpha"]


def test_rescore_takes_the_lm_as_its_list_and_the_beam_as_its_first_pass():
    options = decoder_options(parse_decoder_spec("rescore:candidates=8"), SharedSettings(lm="x.arpa", alpha=0.3))
    assert options["lms"] == ["x.arpa"] and options["alphas"] == [0.3] and options["beta"] == 1.0
    assert options["first_pass_options"] == {"beam_width": 100} and options["candidates"] == 8
    assert "beam_width" not in options and "lm" not in options


@pytest.mark.parametrize(
    "spec, shared, message",
    [
        ("greedy", SharedSettings(lm="x.arpa"), "'greedy' takes no language model, so lm \\(--lm\\) would be ignored"),
        ("greedy", SharedSettings(beam_width=8), "'greedy' has no beam, so beam_width \\(--beam-width\\)"),
        ("pyctcdecode", SharedSettings(alpha=0.9), "without a language model, so alpha \\(--alpha\\)"),
        ("native", SharedSettings(beta=2.0), "without a language model, so beta \\(--beta\\)"),
        ("native+lm", SharedSettings(), "needs a language model; pass --lm"),
        ("greedy:beam_width=3", SharedSettings(), "does not take option\\(s\\) beam_width"),
    ],
)
def test_a_setting_the_decoder_does_not_use_is_an_error(spec, shared, message):
    with pytest.raises(InputError, match=message):
        build_from_spec(parse_decoder_spec(spec), VOCAB, shared)


def test_in_a_table_each_decoder_takes_what_it_uses_but_an_unused_setting_is_an_error():
    specs = [parse_decoder_spec(s) for s in ("greedy", "native+lm")]
    check_settings_used(specs, SharedSettings(lm="x.arpa", alpha=0.9, beam_width=8))  # used by native+lm
    assert decoder_options(specs[0], SharedSettings(lm="x.arpa", beam_width=8), strict=False) == {}
    with pytest.raises(InputError, match="none of the decoders \\(greedy, native\\) uses a language model"):
        check_settings_used([parse_decoder_spec(s) for s in ("greedy", "native")], SharedSettings(alpha=0.9))


def test_an_lm_given_to_one_beam_decoder_means_plus_lm():
    assert single_decoder_spec("native", SharedSettings(lm="x.arpa")).use_lm
    assert not single_decoder_spec("native", SharedSettings()).use_lm
    assert not single_decoder_spec("greedy", SharedSettings(lm="x.arpa")).use_lm  # and then refused


# ------------------------------------------------------------------ the commands (issue 11 item 7)
@pytest.fixture()
def npy(shared):
    return shared.path("wav2vec2-logits/121-121726-0000.npy"), shared.path("wav2vec2-logits/vocab.json")


@pytest.fixture()
def arpa(shared):
    return shared.path("kenlm/test.arpa")


def test_decode_with_rescore_and_an_lm_works(cli, npy, arpa, shared):
    logits, vocab = npy
    result = cli.run("decode", logits, "--vocab", vocab, "-d", "rescore", "--lm", arpa, "--beam-width", "16", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["text"] == shared.wav2vec2_reference() and record["lm_score"] != 0.0


def test_transcribe_with_rescore_and_an_lm_works(cli, tiny_model_dir, arpa, shared):
    wav = shared.path("librispeech-audio/1221-135766-0002.wav")
    result = cli.run("transcribe", wav, "--model", tiny_model_dir, "-d", "rescore", "--lm", arpa, "--beam-width", "4",
                     "--json")
    assert result.exit_code == 0, result.output
    assert {"text", "lm_score", "words"} <= set(json.loads(result.output.strip().splitlines()[-1]))


@pytest.mark.parametrize("command", ["decode", "transcribe"])
def test_an_lm_with_greedy_is_refused_not_ignored(cli, command, npy, arpa, tiny_model_dir, shared):
    logits, vocab = npy
    head = (["decode", logits, "--vocab", vocab] if command == "decode"
            else ["transcribe", shared.path("librispeech-audio/1221-135766-0002.wav"), "--model", tiny_model_dir])
    result = cli.run(*head, "-d", "greedy", "--lm", arpa)
    assert result.exit_code != 0 and "Traceback" not in result.output
    [line] = cli.errors(result)
    assert "'greedy' takes no language model" in line and "--lm" in line


def test_plus_lm_specs_work_in_decode_and_an_lm_given_to_native_means_native_plus_lm(cli, npy, arpa):
    logits, vocab = npy
    outputs = []
    for spec in ("native+lm:beam_width=16", "native:beam_width=16"):
        result = cli.run("decode", logits, "--vocab", vocab, "-d", spec, "--lm", arpa, "--json")
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.output))
    assert outputs[0] == outputs[1] and outputs[0]["lm_score"] != 0.0


@pytest.mark.parametrize(
    "args, message",
    [
        (["decode", "{logits}", "--vocab", "{vocab}", "--beam-width", "8"], "'greedy' has no beam"),
        (["decode", "{logits}", "--vocab", "{vocab}", "-d", "pyctcdecode", "--alpha", "0.9"], "alpha \\(--alpha\\)"),
        (["decode", "{logits}", "--vocab", "{vocab}", "-d", "native+lm"], "needs a language model"),
        (["compare", "--logits", "{folder}", "-d", "greedy", "--beam-width", "8", "-o", "{out}"],
         "none of the decoders \\(greedy\\) has a beam"),
        (["compare", "--logits", "{folder}", "-d", "greedy", "-d", "native", "--lm", "{arpa}", "-o", "{out}"],
         "uses a language model"),
        (["compare", "--logits", "{folder}", "--model", "{model}", "-d", "greedy", "-o", "{out}"], "not both"),
        (["tune", "--logits", "{folder}", "--lm", "{arpa}", "-d", "greedy", "--trials", "1", "-o", "{out}"],
         "'greedy' takes no language model"),
    ],
)
def test_every_command_refuses_a_setting_it_would_ignore(cli, args, message, npy, arpa, tiny_model_dir, tmp_path):
    logits, vocab = npy
    fill = {"logits": logits, "vocab": vocab, "folder": logits.parent, "arpa": arpa, "out": tmp_path / "o",
            "model": tiny_model_dir}
    result = cli.run(*[a.format(**fill) for a in args])
    assert result.exit_code != 0 and "Traceback" not in result.output
    [line] = cli.errors(result)
    import re

    assert re.search(message, line), line


def test_one_spec_syntax_in_every_command(cli, npy, arpa, tiny_model_dir, shared, tmp_path):
    logits, vocab = npy
    spec = "native+lm:beam_width=8,token_min_logp=-6"
    runs = [
        ["decode", logits, "--vocab", vocab, "-d", spec, "--lm", arpa],
        ["transcribe", shared.path("librispeech-audio/1221-135766-0002.wav"), "--model", tiny_model_dir, "-d", spec,
         "--lm", arpa],
        ["compare", "--logits", logits.parent, "-d", spec, "--lm", arpa, "-o", tmp_path / "c"],
        ["tune", "--logits", logits.parent, "-d", spec, "--lm", arpa, "--trials", "2", "-o", tmp_path / "t"],
    ]
    for args in runs:
        result = cli.run(*args)
        assert result.exit_code == 0, (args[0], result.output)
    assert list(cli.results(tmp_path / "c")) == [spec]
