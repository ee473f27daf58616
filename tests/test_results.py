"""Crash-safe result files: atomic writes and the resumable JSONL journal."""

from __future__ import annotations

import json
import os

import pytest

from ctcdecode_kit.errors import InputError, ResultsError
from ctcdecode_kit.runs.journal import Journal, atomic_write_json, ensure_output_dir


def test_journal_round_trips_records_on_resume(tmp_path):
    journal = Journal(tmp_path / "j.jsonl", header={"a": 1})
    journal.extend([{"i": 1}, {"i": 2}])
    assert Journal(tmp_path / "j.jsonl", header={"a": 1}, resume=True).records == [{"i": 1}, {"i": 2}]


def test_journal_without_resume_starts_over(tmp_path):
    Journal(tmp_path / "j.jsonl", header={"a": 1}).append({"i": 1})
    assert Journal(tmp_path / "j.jsonl", header={"a": 1}).records == []
    assert Journal(tmp_path / "j.jsonl", header={"a": 1}, resume=True).records == []


def test_torn_last_line_is_dropped_and_repaired(tmp_path):
    path = tmp_path / "j.jsonl"
    Journal(path, header={"a": 1}).append({"i": 1})
    with open(path, "ab") as handle:
        handle.write(b'{"i": 2, "te')
    journal = Journal(path, header={"a": 1}, resume=True)
    assert journal.records == [{"i": 1}]
    journal.append({"i": 3})
    assert [r["i"] for r in Journal(path, header={"a": 1}, resume=True).records] == [1, 3]


def test_corrupt_middle_line_is_reported_not_trusted(tmp_path):
    path = tmp_path / "j.jsonl"
    Journal(path, header={"a": 1}).extend([{"i": 1}, {"i": 2}])
    lines = path.read_bytes().split(b"\n")
    lines[1] = b"garbage{"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ResultsError, match="corrupt at line 2"):
        Journal(path, header={"a": 1}, resume=True)


def test_journal_from_other_settings_is_refused(tmp_path):
    Journal(tmp_path / "j.jsonl", header={"alpha": 0.5}).append({"i": 1})
    with pytest.raises(ResultsError, match="other settings"):
        Journal(tmp_path / "j.jsonl", header={"alpha": 0.9}, resume=True)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write_json(tmp_path / "r.json", {"x": [1, 2]})
    assert json.loads((tmp_path / "r.json").read_text()) == {"x": [1, 2]}
    assert os.listdir(tmp_path) == ["r.json"]


def test_unwritable_output_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="not a directory|not writable"):
        ensure_output_dir(blocker / "sub")
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(InputError, match="not writable"):
            ensure_output_dir(locked / "out")
