"""A run's output folder records what produced it; another run's folder is never silently reused
(issue 11 items 1 and 2: stale logits, cache files outside --output)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctcdecode_kit import AcousticModel, load_dataset
from ctcdecode_kit.errors import ResultsError
from ctcdecode_kit.runs.compare import compare
from ctcdecode_kit.runs.logits_cache import cache_file_names


def _greedy_wer(cli, out: Path) -> float:
    return cli.results(out)["greedy"]["wer"]


# ------------------------------------------------------------------ issue 11 item 1: stale logits
def test_compare_into_a_folder_of_a_run_on_other_logits_is_refused_with_one_line(cli, logits_pair, tmp_path):
    a, b = logits_pair
    out = tmp_path / "out"
    assert cli.run("compare", "--logits", a, "-d", "greedy", "-o", out).exit_code == 0
    second = cli.run("compare", "--logits", b, "-d", "greedy", "-o", out)
    assert second.exit_code != 0 and "Traceback" not in second.output
    [line] = cli.errors(second)
    assert "other settings (data.items." in line
    assert "--resume" in line and "--overwrite" in line and "--output" in line
    assert _greedy_wer(cli, out) == 0.0  # the first run's results are untouched


def test_default_output_gives_a_run_on_other_data_its_own_folder(cli, logits_pair, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a, b = logits_pair  # same folder name, same ids: only the content differs
    assert cli.run("compare", "--logits", a, "-d", "greedy").exit_code == 0
    result = cli.run("compare", "--logits", b, "-d", "greedy")
    assert result.exit_code == 0, result.output
    folders = sorted((tmp_path / "ctcdecode-kit-runs").iterdir())
    assert len(folders) == 2 and all(f.name.startswith("logits-logits-") for f in folders)
    assert sorted(_greedy_wer(cli, f) for f in folders)[0] == 0.0
    assert sorted(_greedy_wer(cli, f) for f in folders)[1] > 0.5  # random logits


def test_saved_logits_are_read_from_their_own_files_never_from_the_cache(cli, logits_pair, tmp_path):
    a, _ = logits_pair
    out = tmp_path / "out"
    assert cli.run("compare", "--logits", a, "-d", "greedy", "-o", out).exit_code == 0
    assert not list(out.glob("logits/*.npy"))  # nothing copied
    planted = out / "logits" / "121-121726-0000.npy"
    planted.parent.mkdir(exist_ok=True)
    np.save(planted, np.random.default_rng(0).normal(size=(422, 32)).astype(np.float32))
    assert cli.run("compare", "--logits", a, "-d", "greedy", "-o", out).exit_code == 0
    assert _greedy_wer(cli, out) == 0.0


def test_overwrite_deletes_the_previous_run_and_keeps_other_files(cli, logits_pair, tmp_path):
    a, b = logits_pair
    out = tmp_path / "out"
    assert cli.run("compare", "--logits", a, "-d", "greedy", "-o", out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    (out / "logits").mkdir()
    np.save(out / "logits" / "stale.npy", np.zeros((2, 32), np.float32))
    result = cli.run("compare", "--logits", b, "-d", "greedy", "-o", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert _greedy_wer(cli, out) > 0.5
    assert (out / "notes.txt").read_text() == "mine" and not (out / "logits").exists()
    assert json.loads((out / "run.json").read_text())["fingerprint"]["data"]["items"]["121-121726-0000"]["path"].startswith(str(b))


def test_results_without_a_run_record_from_an_older_kit_are_refused(cli, logits_pair, tmp_path):
    a, _ = logits_pair
    out = tmp_path / "out"
    assert cli.run("compare", "--logits", a, "-d", "greedy", "-o", out).exit_code == 0
    (out / "run.json").unlink()
    for extra in ([], ["--resume"]):
        result = cli.run("compare", "--logits", a, "-d", "greedy", "-o", out, *extra)
        [line] = cli.errors(result)
        assert result.exit_code != 0 and "without a run.json" in line and "--overwrite" in line and "--output" in line
    assert cli.run("compare", "--logits", a, "-d", "greedy", "-o", out, "--overwrite").exit_code == 0


def test_resume_with_a_changed_setting_is_refused_naming_it(cli, logits_pair, tmp_path):
    a, _ = logits_pair
    out = tmp_path / "out"
    assert cli.run("compare", "--logits", a, "-d", "greedy", "-o", out).exit_code == 0
    result = cli.run("compare", "--logits", a, "-d", "greedy", "-d", "native", "-o", out, "--resume")
    [line] = cli.errors(result)
    assert result.exit_code != 0 and line.startswith("error: cannot --resume") and "decoders:" in line


def test_resume_and_overwrite_together_are_refused(cli, logits_pair, tmp_path):
    a, _ = logits_pair
    result = cli.run("compare", "--logits", a, "-d", "greedy", "-o", tmp_path / "o", "--resume", "--overwrite")
    assert result.exit_code != 0 and "give one of them" in cli.errors(result)[0]


def test_a_rerun_with_the_same_settings_reuses_the_cached_logits_and_decodes_afresh(
    audio_dir, tiny_model_dir, tmp_path, monkeypatch
):
    model = AcousticModel.from_pretrained(tiny_model_dir, device="cpu")
    data = load_dataset(audio_dir)
    out = tmp_path / "out"
    first = compare(data, decoders=["greedy"], model=model, output_dir=out)
    assert first.acoustic_seconds > 0 and len(list((out / "logits").glob("*.npy"))) == 2
    lines = (out / "hyps.jsonl").read_text().splitlines()
    (out / "hyps.jsonl").write_text("\n".join([lines[0]] + [ln.replace('"text": "', '"text": "STALE') for ln in lines[1:]]) + "\n")

    def no_acoustic_pass(*args, **kwargs):
        raise AssertionError("the acoustic model ran although its logits are cached")

    monkeypatch.setattr(AcousticModel, "iter_logits", no_acoustic_pass)
    second = compare(data, decoders=["greedy"], model=model, output_dir=out)
    assert second.results[0].wer == first.results[0].wer
    texts = [json.loads(line)["text"] for line in (out / "hyps.jsonl").read_text().splitlines()[1:]]
    assert len(texts) == 2 and not any(t.startswith("STALE") for t in texts)


def test_two_acoustic_models_on_one_dataset_both_run(cli, audio_dir, make_tiny_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = make_tiny_model(), make_tiny_model(seed=1)
    for model in (first, second):
        result = cli.run("compare", "--model", model, "--data", audio_dir, "-d", "greedy")
        assert result.exit_code == 0, result.output
    folders = sorted((tmp_path / "ctcdecode-kit-runs").iterdir())
    assert len(folders) == 2
    assert all(json.loads((f / "results.json").read_text())["acoustic_seconds"] > 0 for f in folders)
    logits = [np.load(f / "logits" / "u1.npy") for f in folders]
    assert logits[0].shape == logits[1].shape and not np.allclose(logits[0], logits[1])
    # the same explicit folder for the second model is refused, naming the model
    out = tmp_path / "shared-out"
    assert cli.run("compare", "--model", first, "--data", audio_dir, "-d", "greedy", "-o", out).exit_code == 0
    refused = cli.run("compare", "--model", second, "--data", audio_dir, "-d", "greedy", "-o", out)
    assert refused.exit_code != 0 and "(model." in cli.errors(refused)[0]


# ------------------------------------------------------------------ issue 11 item 2: files outside --output
def test_manifest_with_repeated_file_stems_keeps_every_logits_file_inside_output(tiny_model_dir, tmp_path, cli):
    import soundfile

    rows = []
    for speaker in ("s1", "s2"):
        folder = tmp_path / "audio" / speaker
        folder.mkdir(parents=True)
        soundfile.write(folder / "take.wav", np.zeros(12000, np.float32), 16000)
        rows.append(json.dumps({"audio_filepath": str(folder / "take.wav"), "text": "A"}))
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = cli.run("compare", "--model", tiny_model_dir, "--data", manifest, "-d", "greedy", "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "audio").rglob("*")) == ["s1", "s2", "take.wav", "take.wav"]
    cached = list((out / "logits").iterdir())
    assert len(cached) == 2 and all(p.parent == out / "logits" and p.suffix == ".npy" for p in cached)


@pytest.mark.parametrize(
    "ids",
    [
        ["/data/a/x.wav", "/data/b/x.wav"],
        ["../x", "..", ".hidden", "a/../b", "a\\b", "c:d"],
        ["A", "a", "B"],
        ["x" * 300, "x" * 301],
        ["ok-1_2.3", "ünï", ""],
    ],
)
def test_cache_file_names_are_plain_unique_and_case_insensitively_distinct(ids):
    names = cache_file_names(ids)
    assert len({n.casefold() for n in names.values()}) == len(ids)
    for name in names.values():
        assert name and not name.startswith(".") and ".." not in name and len(name) <= 120
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    if "ok-1_2.3" in ids:
        assert names["ok-1_2.3"] == "ok-1_2.3"


def test_folder_check_happens_before_any_acoustic_work(audio_dir, tiny_model_dir, tmp_path, monkeypatch):
    model = AcousticModel.from_pretrained(tiny_model_dir, device="cpu")
    out = tmp_path / "out"
    out.mkdir()
    (out / "hyps.jsonl").write_text('{"header": {}}\n')

    def no_acoustic_pass(*args, **kwargs):
        raise AssertionError("acoustic work before the folder check")

    monkeypatch.setattr(AcousticModel, "iter_logits", no_acoustic_pass)
    with pytest.raises(ResultsError, match="without a run.json"):
        compare(load_dataset(audio_dir), decoders=["greedy"], model=model, output_dir=out)


# ------------------------------------------------------------------ the derived-cache folder
def test_user_cache_dir_honours_xdg_cache_home(tmp_path, monkeypatch):
    from ctcdecode_kit.cache import derived_path, user_cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "ctcdecode_kit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache_dir() == Path.home() / ".cache" / "ctcdecode_kit"
    source = tmp_path / "lm.arpa"
    assert derived_path(source, ".bin") == tmp_path / "lm.arpa.bin"  # beside a writable source
    blocked = tmp_path / "file"
    blocked.write_text("x")
    elsewhere = derived_path(blocked / "lm.arpa", ".bin")  # its "folder" is a file: not writable
    assert elsewhere.parent.parent == user_cache_dir() and elsewhere.name == "lm.arpa.bin"
    assert derived_path(tmp_path / "b" / "lm.arpa", ".bin") != derived_path(tmp_path / "c" / "lm.arpa", ".bin")


def test_the_device_kind_is_part_of_the_model_fingerprint(tiny_model_dir):
    from types import SimpleNamespace

    import torch

    from ctcdecode_kit.runs.fingerprint import model_fingerprint

    cpu = SimpleNamespace(name=str(tiny_model_dir), dtype=torch.float32, device=torch.device("cpu"))
    gpu = SimpleNamespace(name=str(tiny_model_dir), dtype=torch.float32, device=torch.device("cuda", 1))
    assert model_fingerprint(cpu)["device"] == "cpu" and model_fingerprint(gpu)["device"] == "cuda"
    assert model_fingerprint(cpu) != model_fingerprint(gpu)
