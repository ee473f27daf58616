"""transcribe --data DATASET --output DIR [--resume]: one JSONL line per utterance, resumable (issue 15, no Ray)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctcdecode_kit.default import default_assets


@pytest.fixture()
def three(tmp_path) -> Path:
    """Three of the embedded held-out recordings with their trans.txt."""
    source = default_assets().eval_dir
    folder = tmp_path / "three"
    folder.mkdir()
    lines = source.joinpath("trans.txt").read_text().splitlines()[:3]
    for line in lines:
        utt_id = line.split()[0]
        shutil.copy(source / f"{utt_id}.flac", folder / f"{utt_id}.flac")
    (folder / "trans.txt").write_text("\n".join(lines) + "\n")
    return folder


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_utterance_gets_one_line_with_its_path_text_scores_and_word_times(cli, three, tmp_path):
    result = cli.run("transcribe", "--data", three, "--output", tmp_path / "out", "-d", "greedy")
    assert result.exit_code == 0, result.output
    lines = _read(tmp_path / "out" / "transcripts.jsonl")
    assert sorted(line["id"] for line in lines) == sorted(p.stem for p in three.glob("*.flac"))
    for line in lines:
        assert set(line) == {"id", "path", "decoder", "text", "score", "am_score", "lm_score", "words"}
        assert Path(line["path"]) == three / f"{line['id']}.flac"
        assert line["text"] and [w["word"] for w in line["words"]] == line["text"].split()
        assert all(0 <= w["start"] <= w["end"] for w in line["words"])
    # the same texts as transcribing the files one by one
    files = sorted(three.glob("*.flac"))
    single = cli.run("transcribe", *files, "-d", "greedy")
    by_file = dict(row.split("\t") for row in single.output.strip().splitlines())
    assert {line["path"]: line["text"] for line in lines} == by_file


def test_resume_finishes_an_interrupted_run_without_writing_an_utterance_twice(cli, three, tmp_path):
    out = tmp_path / "out"
    assert cli.run("transcribe", "--data", three, "--output", out).exit_code == 0
    whole = _read(out / "transcripts.jsonl")
    journal = out / "transcripts.jsonl"
    kept = journal.read_text().splitlines()[:1]
    journal.write_text(kept[0] + "\n" + '{"id": "torn', encoding="utf-8")  # one finished line and a torn one
    result = cli.run("transcribe", "--data", three, "--output", out, "--resume")
    assert result.exit_code == 0, result.output
    resumed = _read(journal)
    assert len(resumed) == len({line["id"] for line in resumed}) == 3
    # the redone utterances go through the model in a smaller batch (other padding, which this
    # group-norm model sees), so their scores differ slightly; the texts and words do not
    assert {r["id"]: r["text"] for r in resumed} == {r["id"]: r["text"] for r in whole}
    assert {r["id"]: [w["word"] for w in r["words"]] for r in resumed} == {
        r["id"]: [w["word"] for w in r["words"]] for r in whole}
    assert resumed[0] == json.loads(kept[0])  # the finished line was kept, not redone


def test_a_run_with_other_settings_in_the_same_output_is_refused_naming_the_change(cli, three, tmp_path):
    out = tmp_path / "out"
    assert cli.run("transcribe", "--data", three, "--output", out).exit_code == 0
    result = cli.run("transcribe", "--data", three, "--output", out, "-d", "native", "--resume")
    assert result.exit_code == 2
    assert cli.errors(result) and "decoder" in cli.errors(result)[0] and "--resume" in cli.errors(result)[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "OUT"], "give --data DATASET"),
        (["--data", "DATA"], "--data needs --output DIR"),
        (["FILE", "--data", "DATA", "--output", "OUT"], "not both"),
        ([], "give audio files to transcribe, or --data DATASET --output DIR"),
    ],
)
def test_dataset_options_that_do_not_fit_are_one_line_errors(cli, three, tmp_path, args, message):
    names = {"OUT": tmp_path / "out", "DATA": three, "FILE": next(three.glob("*.flac"))}
    result = cli.run("transcribe", *[names.get(a, a) for a in args])
    assert result.exit_code == 2 and message in cli.errors(result)[0], result.output
