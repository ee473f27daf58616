"""Small datasets for the run-engine tests: saved logits and short audio, made in tmp folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ctcdecode_kit.cli import app


class Cli:
    """The command line, run in-process, and readers of what it wrote."""

    @staticmethod
    def run(*args: object):
        """typer's Result of ``ctcdecode-kit ARGS``."""
        return CliRunner().invoke(app, [str(a) for a in args])

    @staticmethod
    def errors(result) -> list[str]:
        """The ``error: ...`` lines of a result."""
        return [line for line in result.output.splitlines() if line.startswith("error:")]

    @staticmethod
    def results(out: Path) -> dict[str, dict]:
        """``{decoder: row}`` of a run's results.json."""
        return {row["decoder"]: row for row in json.loads((out / "results.json").read_text())["decoders"]}


@pytest.fixture(scope="session")
def cli() -> type[Cli]:
    return Cli


@pytest.fixture()
def logits_pair(tmp_path, shared) -> tuple[Path, Path]:
    """Two saved-logits datasets, both folders named ``logits`` with the same id and reference:
    A holds the real wav2vec2 logits (greedy WER 0), B random logits (greedy WER far above 0)."""
    source = shared.path("wav2vec2-logits")
    a, b = tmp_path / "a" / "logits", tmp_path / "b" / "logits"
    shutil.copytree(source, a)
    shutil.copytree(source, b)
    for path in b.glob("*.npy"):
        shape = np.load(path).shape
        np.save(path, np.random.default_rng(3).normal(scale=5.0, size=shape).astype(np.float32))
    return a, b


@pytest.fixture()
def audio_dir(tmp_path) -> Path:
    """Two short noise recordings with a trans.txt."""
    import soundfile

    folder = tmp_path / "audio"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, seconds in (("u1", 0.6), ("u2", 0.9)):
        soundfile.write(folder / f"{name}.wav", (0.1 * rng.standard_normal(int(16000 * seconds))).astype(np.float32), 16000)
    (folder / "trans.txt").write_text("u1\tA B\nu2\tB A\n")
    return folder
