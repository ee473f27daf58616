"""Killing a long run at a random moment loses nothing: --resume gives the same results.

Set CTCDECODE_KIT_KILL_RUNS=20 to repeat the kill/resume cycle 20 times in a row.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

RUNS = int(os.environ.get("CTCDECODE_KIT_KILL_RUNS", "1"))
TIMING = {"decode_seconds", "rtf"}
UTTERANCES = 24
DECODERS = 2


@pytest.fixture(scope="module")
def noisy_logits_dir(tmp_path_factory, shared) -> Path:
    """24 noisy copies of the real wav2vec2 logits as a saved-logits dataset."""
    folder = tmp_path_factory.mktemp("logits")
    base = shared.wav2vec2_logits()[0]
    rng = np.random.default_rng(7)
    lines = []
    for i in range(UTTERANCES):
        np.save(folder / f"utt{i:02d}.npy", base + rng.normal(scale=4.0, size=base.shape).astype(np.float32))
        lines.append(f"utt{i:02d}\t{shared.wav2vec2_reference()}")
    (folder / "trans.txt").write_text("\n".join(lines) + "\n")
    shutil.copy(shared.path("wav2vec2-logits/vocab.json"), folder / "vocab.json")
    return folder


def _command(data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ctcdecode_kit.cli", "compare", "--logits", str(data), "-d", "greedy",
            "-d", "native:beam_width=32,num_workers=1", "--batch-size", "2", "--output", str(out), *extra]


def _final(out: Path) -> list[dict]:
    rows = json.loads((out / "results.json").read_text())["decoders"]
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def _records(out: Path) -> list[tuple[str, str, str]]:
    lines = (out / "hyps.jsonl").read_text().splitlines()[1:]
    return sorted((r["decoder"], r["id"], r["text"]) for r in map(json.loads, lines))


@pytest.fixture(scope="module")
def uninterrupted(noisy_logits_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    subprocess.run(_command(noisy_logits_dir, out), check=True, capture_output=True)
    return out


@pytest.mark.parametrize("run", range(RUNS))
def test_sigkill_then_resume_gives_the_uninterrupted_results(run, noisy_logits_dir, uninterrupted, tmp_path):
    out = tmp_path / "killed"
    rng = random.Random(run)
    target = rng.randrange(UTTERANCES * DECODERS)  # kill once this many results are journaled
    proc = subprocess.Popen(_command(noisy_logits_dir, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / "hyps.jsonl"
    while proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") - 1 >= target:
            time.sleep(rng.uniform(0, 0.05))
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = subprocess.run(_command(noisy_logits_dir, out, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert _final(out) == _final(uninterrupted)
    assert _records(out) == _records(uninterrupted)  # every (decoder, utterance) exactly once


def test_corrupt_journal_is_reported_not_trusted(noisy_logits_dir, uninterrupted, tmp_path):
    out = tmp_path / "corrupt"
    shutil.copytree(uninterrupted, out)
    lines = (out / "hyps.jsonl").read_text().splitlines()
    lines[3] = lines[3][:20] + "#garbage"
    (out / "hyps.jsonl").write_text("\n".join(lines) + "\n")
    result = subprocess.run(_command(noisy_logits_dir, out, "--resume"), capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "corrupt at line 4" in result.stderr


def test_resume_with_other_settings_is_refused_naming_the_setting(noisy_logits_dir, uninterrupted, tmp_path):
    out = tmp_path / "other"
    shutil.copytree(uninterrupted, out)
    cmd = _command(noisy_logits_dir, out, "--resume", "--beam-width", "16")
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "other settings (beam_width: 100 -> 16)" in result.stderr
