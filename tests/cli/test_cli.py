"""The ctcdecode-kit command line, on the shared real data and on a tiny saved model."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctcdecode_kit.cli import app
from tests.conftest import require_module

runner = CliRunner()
COMMANDS = [["compare"], ["transcribe"], ["decode"], ["tune"], ["list"], ["lm", "build"], ["lm", "score"]]


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_of_every_command_shows_an_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Example" in result.output


def test_version_prints_the_kit_and_its_main_dependencies():
    result = invoke("--version")
    assert result.exit_code == 0
    for name in ("ctcdecode-kit", "torch", "transformers", "pyctcdecode", "kenlm"):
        assert name in result.output


def test_decode_saved_npy_prints_the_librispeech_reference(shared):
    result = invoke("decode", shared.path("wav2vec2-logits/121-121726-0000.npy"), "--vocab",
                    shared.path("wav2vec2-logits/vocab.json"))
    assert result.exit_code == 0 and result.output.strip() == shared.wav2vec2_reference()


def test_decode_pt_with_beam_json_has_scores_and_word_times(shared):
    result = invoke("decode", shared.path("wav2vec2-logits-torch/121-121726-0000.pt"), "--vocab",
                    shared.path("wav2vec2-logits/vocab.json"), "-d", "native", "--frame-rate", "50", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["text"] == shared.wav2vec2_reference()
    assert {"score", "am_score", "lm_score", "tokens", "words"} <= set(record)
    assert record["words"][0]["text"] == "ALSO" and record["words"][0]["start_time"] > 0


def test_compare_on_saved_real_logits_reports_zero_greedy_wer_and_writes_every_file(shared, tmp_path):
    out = tmp_path / "run"
    result = invoke("compare", "--logits", shared.path("wav2vec2-logits"), "-d", "greedy", "-d", "native",
                    "--beam-width", "20", "--output", out)
    assert result.exit_code == 0, result.output
    assert "greedy" in result.output and "WER" in result.output
    summary = json.loads((out / "results.json").read_text())
    assert {"settings", "acoustic_seconds", "wall_seconds", "decoders"} <= set(summary)
    assert summary["settings"]["versions"]["ctcdecode-kit"]
    rows = {d["decoder"]: d for d in summary["decoders"]}
    assert rows["greedy"]["wer"] == 0.0 and rows["greedy"]["cer"] == 0.0
    assert rows["native"]["wer"] == 0.0 and rows["greedy"]["n_utterances"] == 1
    assert {"substitutions", "insertions", "deletions", "decode_seconds", "rtf", "wer_change_vs_greedy"} <= set(rows["greedy"])
    with open(out / "results.csv", newline="") as handle:
        assert [r["decoder"] for r in csv.DictReader(handle)] == ["greedy", "native"]
    hyps = [json.loads(line) for line in (out / "hyps.jsonl").read_text().splitlines()[1:]]
    assert {(h["decoder"], h["text"]) for h in hyps} == {(d, shared.wav2vec2_reference()) for d in rows}
    png = (out / "wer_vs_time.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    import matplotlib.image

    assert matplotlib.image.imread(out / "wer_vs_time.png").shape[2] in (3, 4)


def test_compare_on_real_wavs_with_tiny_saved_model_runs_end_to_end(shared, tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    result = invoke("compare", "--model", tiny_model_dir, "--data", shared.path("librispeech-audio"),
                    "-d", "greedy", "-d", "native:beam_width=4", "--batch-size", "2", "--output", out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    assert [d["decoder"] for d in summary["decoders"]] == ["greedy", "native:beam_width=4"]
    assert all(d["n_utterances"] == 4 and d["audio_seconds"] > 30 for d in summary["decoders"])
    assert summary["acoustic_seconds"] > 0
    assert len(list((out / "logits").glob("*.npy"))) == 4


def test_compare_resume_skips_finished_work_and_gives_the_same_table(shared, tmp_path):
    out = tmp_path / "run"
    args = ["compare", "--logits", shared.path("wav2vec2-logits"), "-d", "greedy", "--output", out]
    assert invoke(*args).exit_code == 0
    first = json.loads((out / "results.json").read_text())
    (out / "results.json").unlink()
    assert invoke(*args, "--resume").exit_code == 0
    second = json.loads((out / "results.json").read_text())
    assert [d["wer"] for d in first["decoders"]] == [d["wer"] for d in second["decoders"]]
    assert len((out / "hyps.jsonl").read_text().splitlines()) == 2  # header + one record, not decoded twice


def test_transcribe_json_gives_word_times_in_seconds(shared, tiny_model_dir):
    wav = shared.path("librispeech-audio/1221-135766-0002.wav")
    result = invoke("transcribe", wav, "--model", tiny_model_dir, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert record["file"] == str(wav) and {"text", "score", "words"} <= set(record)


@pytest.fixture(scope="module")
def small_lm(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lm") / "lm.arpa"
    corpus = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    corpus.write_text("also a popular contrivance\nthe picnic season\nlove making may be suspended\n")
    result = invoke("lm", "build", corpus, "-o", path, "--order", "2")
    assert result.exit_code == 0, result.output
    return path


def test_lm_build_writes_an_arpa_that_the_kits_kenlm_loads(small_lm):
    from ctcdecode_kit.lm import KenLM

    lm = KenLM(small_lm)
    assert lm.order == 2 and "picnic" in lm.unigrams


@pytest.mark.extra("kenlm")
def test_lm_build_writes_an_arpa_that_kenlm_loads(small_lm):
    kenlm = require_module("kenlm", install="pip install 'ctcdecode-kit[kenlm]'")

    assert kenlm.Model(str(small_lm)).order == 2


def test_lm_score_prints_per_word_and_total(small_lm):
    result = invoke("lm", "score", small_lm, "the picnic season")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["the", "picnic", "season", "</s>", "TOTAL"]
    total = float(lines[-1].split("ln=")[1].split()[0])
    assert total == pytest.approx(sum(float(line.split("ln=")[1].split()[0]) for line in lines[:-1]), abs=1e-3)


def test_tune_finds_alpha_beta_writes_json_and_resumes(shared, small_lm, tmp_path):
    out = tmp_path / "tune"
    args = ["tune", "--lm", small_lm, "--logits", shared.path("wav2vec2-logits"), "--trials", "5",
            "--beam-width", "8", "--output", out]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "best: alpha=" in result.output
    report = json.loads((out / "tune.json").read_text())
    assert len(report["trials"]) == 5 and report["best"]["wer"] == min(t["wer"] for t in report["trials"])
    again = invoke(*args[:-2], "--trials", "7", "--output", out, "--resume")
    assert again.exit_code == 0, again.output
    assert len(json.loads((out / "tune.json").read_text())["trials"]) == 7
    assert again.output.count("trial ") == 2  # only the two new trials ran


@pytest.mark.parametrize(
    "args, message",
    [
        (["decode", "missing.npy", "--vocab", "missing.json"], "does not exist"),
        (["compare", "--logits", "{logits}", "-d", "beam-me-up"], "unknown decoder 'beam-me-up'.*valid names: .*greedy"),
        (["compare", "--logits", "{logits}", "-d", "pyctcdecode+lm"], "needs a language model"),
        (["compare", "--logits", "{logits}", "--vocab", "{tokens}"], "32 classes .* 7 tokens"),
        (["transcribe", "missing.wav", "--model", "{model}"], "missing.wav"),
        (["lm", "score", "missing.arpa", "a b"], "missing.arpa"),
    ],
)
def test_bad_input_is_one_error_line_and_nonzero_exit(args, message, shared, tiny_model_dir, tmp_path):
    import re

    tokens = tmp_path / "tokens.txt"
    tokens.write_text("<pad>\n|\nf\no\nb\na\nr\n")
    fill = {"logits": shared.path("wav2vec2-logits"), "tokens": tokens, "model": tiny_model_dir}
    args = [a.format(**fill) for a in args] + (["--output", str(tmp_path / "o")] if args[0] == "compare" else [])
    result = invoke(*args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and re.search(message, errors[0]), result.output


@pytest.mark.parametrize("command", ["compare", "decode", "transcribe"])
def test_help_shows_the_defaults_of_options_that_default_to_none(command):
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(re.sub(r"[\u2500-\u257f]", " ", result.output).split())  # rich's box drawing between wrapped lines
    assert "(default: 0.5)" in text and "(default: 1.0)" in text
