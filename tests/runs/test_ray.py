"""compare, transcribe and tune on a real Ray cluster give what one process gives (issue 15).

One Ray head (``ray start --head --block``, 2 CPUs, a capped object store) serves the module:
this process connects to it for the API tests, and a driver subprocess connects to it for the
kill-and-resume test. Ray is imported only inside the fixtures and tests, so the numpy-2 core
run can collect this file and deselect it (``-m "not extra"``). Small subsets keep it quick.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ctcdecode_kit.datasets import load_dataset
from ctcdecode_kit.default import default_assets
from ctcdecode_kit.errors import AudioError
from tests.conftest import require_module

pytestmark = pytest.mark.extra("ray")

INSTALL = "pip install 'ctcdecode-kit[ray]'"
DECODERS = ["greedy", "native+lm", "rescore"]
TIMING = {"decode_seconds", "rtf"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory) -> str:
    """The address of a Ray head started for this module (its process group is stopped afterwards).

    Token authentication is off for this local test cluster (``RAY_AUTH_MODE=disabled``, for
    the head, this process and the driver subprocesses alike)."""
    require_module("ray", install=INSTALL)
    port = _free_port()
    log = tmp_path_factory.mktemp("ray-head") / "head.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_AUTH_MODE", "disabled")
        head = subprocess.Popen(
            [Path(sys.executable).parent / "ray", "start", "--head", "--block", f"--port={port}",
             "--node-ip-address=127.0.0.1", "--num-cpus=2", "--object-store-memory=200000000",
             "--include-dashboard=false", "--disable-usage-stats"],
            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            while "Ray runtime started" not in log.read_text():  # the head says when it is ready
                if head.poll() is not None:
                    pytest.fail(f"ray start --head exited: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            yield f"127.0.0.1:{port}"
        finally:
            os.killpg(head.pid, signal.SIGTERM)
            try:
                head.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(head.pid, signal.SIGKILL)
                head.wait()


@pytest.fixture(scope="module")
def on_ray(ray_cluster) -> str:
    """This process connected to the module's head; the address to pass as ``ray=``."""
    ray = require_module("ray", install=INSTALL)
    ray.init(address=ray_cluster, log_to_driver=False)
    yield ray_cluster
    ray.shutdown()


@pytest.fixture(scope="module")
def subset():
    """The embedded default model, four of its held-out recordings and its LM."""
    from ctcdecode_kit import AcousticModel

    assets = default_assets()
    model = AcousticModel.from_pretrained(assets.model_dir, device="cpu")
    return model, list(load_dataset(assets.eval_dir))[:4], assets.lm_path


def _lines(folder: Path, name: str = "hyps.jsonl") -> list[dict]:
    lines = [json.loads(line) for line in (folder / name).read_text().splitlines()]
    return [line for line in lines if "header" not in line]


def _sorted_without_timings(records: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in r.items() if k not in TIMING} for r in records),
                  key=lambda r: (r.get("decoder", ""), r["id"]))


def _figures(folder: Path) -> list[dict]:
    rows = json.loads((folder / "results.json").read_text())["decoders"]
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def assert_same_run(one: Path, other: Path) -> None:
    """Same files, same texts per (decoder, utterance), same corpus figures; no pair twice."""
    assert sorted(p.name for p in one.iterdir() if p.is_file()) == sorted(p.name for p in other.iterdir() if p.is_file())
    a, b = _lines(one), _lines(other)
    assert len({(r["decoder"], r["id"]) for r in b}) == len(b), "an utterance appears twice in hyps.jsonl"
    assert _sorted_without_timings(a) == _sorted_without_timings(b)
    assert _figures(one) == _figures(other)


# ------------------------------------------------------------------ compare
def test_compare_on_ray_gives_the_same_texts_and_corpus_figures_on_audio(on_ray, subset, tmp_path):
    from ctcdecode_kit.runs.compare import compare

    model, utterances, lm = subset
    settings = dict(decoders=DECODERS, model=model, lm=lm, beam_width=8, batch_size=2)
    here = compare(utterances, output_dir=tmp_path / "here", **settings)
    there = compare(utterances, output_dir=tmp_path / "ray", ray=on_ray, **settings)
    assert [r.wer for r in there.results] == [r.wer for r in here.results]
    assert [r.cer for r in there.results] == [r.cer for r in here.results]
    assert_same_run(tmp_path / "here", tmp_path / "ray")
    assert sorted(p.name for p in (tmp_path / "ray" / "logits").iterdir()) == sorted(f"{u.id}.npy" for u in utterances)


@pytest.fixture()
def logits_set(tmp_path, shared) -> Path:
    """A saved-logits dataset of three utterances (the real wav2vec2 logits, two with noise added)."""
    source = shared.path("wav2vec2-logits")
    folder = tmp_path / "logits"
    folder.mkdir()
    shutil.copy(source / "vocab.json", folder / "vocab.json")
    (utt_id, reference), = [line.split(maxsplit=1) for line in (source / "trans.txt").read_text().splitlines()]
    clean = np.load(source / f"{utt_id}.npy")
    rng = np.random.default_rng(5)
    lines = []
    for i, scale in enumerate((0.0, 1.5, 3.0)):
        np.save(folder / f"u{i}.npy", (clean + rng.normal(scale=scale, size=clean.shape)).astype(np.float32))
        lines.append(f"u{i} {reference}")
    (folder / "trans.txt").write_text("\n".join(lines) + "\n")
    return folder


def test_compare_on_ray_gives_the_same_results_on_saved_logits(on_ray, logits_set, shared, tmp_path):
    from ctcdecode_kit.runs.compare import compare

    data = load_dataset(logits_set)
    settings = dict(decoders=DECODERS, vocabulary=data.vocabulary, lm=shared.path("kenlm/test.arpa"), beam_width=8,
                    batch_size=2, nbest=3)
    here = compare(data, output_dir=tmp_path / "here", **settings)
    compare(data, output_dir=tmp_path / "ray", ray=on_ray, **settings)
    assert here.results[0].wer > 0  # the noisy copies make errors, so the figures are not all zero
    assert_same_run(tmp_path / "here", tmp_path / "ray")  # n-best lists included
    assert all(1 <= len(row["nbest"]) <= 3 for row in _lines(tmp_path / "ray"))
    assert not (tmp_path / "ray" / "logits").exists()  # saved logits are read from their own files


def test_a_bad_audio_file_on_a_worker_gives_the_one_process_one_line_error(on_ray, subset, tmp_path):
    from ctcdecode_kit.datasets import Utterance
    from ctcdecode_kit.runs.compare import compare

    model, utterances, _ = subset
    bad = tmp_path / "bad.flac"
    data = utterances[0].path.read_bytes()
    bad.write_bytes(data[:400] + bytes(len(data) - 400))  # the header reads, the audio does not decode
    items = [utterances[0], Utterance("bad", "A", path=bad)]
    errors = []
    for ray in (None, on_ray):
        with pytest.raises(AudioError) as caught:
            compare(items, decoders=["greedy"], model=model, ray=ray)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and str(bad) in errors[1] and "\n" not in errors[1]


def test_auto_without_a_cluster_fails_clearly(monkeypatch):
    require_module("ray", install=INSTALL)
    from ctcdecode_kit.errors import InputError
    from ctcdecode_kit.runs import ray_runner

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray_runner, "_local_cluster_running", lambda: False)
    monkeypatch.setattr(sys.modules["ray"], "is_initialized", lambda: False)
    with pytest.raises(InputError, match="--ray auto found no running Ray cluster; start one with `ray start --head`"):
        ray_runner.connect("auto")


# ------------------------------------------------------------------ crash safety
DRIVER = """
import sys
from pathlib import Path
from ctcdecode_kit import AcousticModel, load_dataset
from ctcdecode_kit.default import default_assets
from ctcdecode_kit.runs.compare import compare

assets = default_assets()
model = AcousticModel.from_pretrained(assets.model_dir, device="cpu")
data = list(load_dataset(assets.eval_dir))[:int(sys.argv[2])]
compare(data, decoders=["greedy", "native+lm"], model=model, lm=assets.lm_path, beam_width=8, batch_size=1,
        output_dir=Path(sys.argv[1]), ray=sys.argv[3] if len(sys.argv) > 3 else None, resume="--resume" in sys.argv)
"""


def test_a_killed_ray_driver_resumes_without_ray_to_identical_outputs(ray_cluster, tmp_path):
    from ctcdecode_kit.runs.compare import compare

    n = 10
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    out = tmp_path / "killed"
    driver = subprocess.Popen([sys.executable, script, out, str(n), ray_cluster], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / "hyps.jsonl"
    while driver.poll() is None and not (journal.exists() and len(_lines(out)) > 0):
        time.sleep(0.05)  # poll the journal: kill as soon as it shows finished work
    driver.kill()
    driver.wait()
    assert driver.returncode == -signal.SIGKILL, driver.stderr.read().decode()[-2000:]
    finished = len(_lines(out))
    assert 0 < finished < 2 * n and not (out / "results.json").exists()

    model = __import__("ctcdecode_kit").AcousticModel.from_pretrained(default_assets().model_dir, device="cpu")
    data = list(load_dataset(default_assets().eval_dir))[:n]
    settings = dict(decoders=["greedy", "native+lm"], model=model, lm=default_assets().lm_path, beam_width=8,
                    batch_size=1)
    compare(data, output_dir=out, resume=True, **settings)  # the other runner continues the run
    compare(data, output_dir=tmp_path / "whole", **settings)
    assert_same_run(tmp_path / "whole", out)
    assert len(_lines(out)) == 2 * n


# ------------------------------------------------------------------ tune and transcribe
def test_tune_on_ray_finds_the_same_best_weights_as_tune(on_ray, logits_set, shared):
    from ctcdecode_kit.runs.logits_cache import utterance_log_probs
    from ctcdecode_kit.runs.tune import tune

    data = load_dataset(logits_set)
    arrays = utterance_log_probs(data, None, data.vocabulary)
    settings = dict(lm=str(shared.path("kenlm/test.arpa")), decoder="native", trials=6, beam_width=8)
    here = tune(arrays, data.references, data.vocabulary, **settings)
    there = tune(arrays, data.references, data.vocabulary, ray=on_ray, **settings)
    assert (there.best.alpha, there.best.beta, there.best.wer) == (here.best.alpha, here.best.beta, here.best.wer)
    assert [(t.alpha, t.beta, t.wer, t.cer) for t in there.trials] == [(t.alpha, t.beta, t.wer, t.cer) for t in here.trials]


def test_transcribe_dataset_on_ray_writes_the_same_lines(on_ray, subset, tmp_path):
    from ctcdecode_kit.runs.transcribe import transcribe_dataset

    model, utterances, lm = subset
    here = transcribe_dataset(utterances[:3], model, "native", lm=lm, beam_width=8, output_dir=tmp_path / "here")
    there = transcribe_dataset(utterances[:3], model, "native", lm=lm, beam_width=8, output_dir=tmp_path / "ray",
                               ray=on_ray)
    assert _sorted_without_timings(_lines(there.parent, there.name)) == _sorted_without_timings(
        _lines(here.parent, here.name))
