"""ONNX acoustic models: a tiny CTC model exported here from torch, and hama's phoneme model.

Everything that runs a graph needs the ``[onnx]`` extra (onnxruntime; exporting needs the
``onnx`` package too), so those tests are marked ``extra("onnx")`` and import it inside.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from ctcdecode_kit import AcousticModel, Vocabulary
from ctcdecode_kit.errors import InputError, MissingDependencyError, MissingFileError, VocabularyError
from tests.conftest import require_module

INSTALL = "pip install 'ctcdecode-kit[onnx]'"
LABELS = ["<pad>", "|", "A", "B", "C"]
KERNEL, STRIDE = 400, 320  # frames = (n - 400) // 320 + 1: 50 frames/s, offset -80, shortest input 400


class TinyCTC(torch.nn.Module):
    """A waveform CTC model: strided conv -> log-softmax; the length input shifts every logit."""

    def __init__(self, classes: int = len(LABELS)) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, classes, KERNEL, stride=STRIDE)
        self.length_weight = torch.nn.Parameter(torch.randn(classes))

    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        logits = self.conv(waveform.unsqueeze(1)).transpose(1, 2)
        logits = logits + (lengths.float() / 16000.0)[:, None, None] * self.length_weight
        return torch.log_softmax(logits, dim=-1)


class NoLengths(TinyCTC):
    def forward(self, waveform: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return torch.log_softmax(self.conv(waveform.unsqueeze(1)).transpose(1, 2), dim=-1)


class FlatOutput(TinyCTC):
    def forward(self, waveform: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.conv(waveform.unsqueeze(1)).flatten(1)


def export(module: torch.nn.Module, path: Path, with_lengths: bool = True) -> Path:
    """Export with torch's TorchScript-based exporter (needs the onnx package), dynamic batch and time."""
    require_module("onnx", install=f"{INSTALL} onnx")
    require_module("onnxruntime", install=INSTALL)
    module.eval()
    wave = torch.zeros(2, 16000)
    args: tuple[torch.Tensor, ...] = (wave, torch.tensor([16000, 12000])) if with_lengths else (wave,)
    names = ["waveform", "waveform_lengths"][: len(args)]
    axes = {"waveform": {0: "batch", 1: "samples"}, "log_probs": {0: "batch", 1: "frames"}}
    if with_lengths:
        axes["waveform_lengths"] = {0: "batch"}
    with warnings.catch_warnings():  # the TorchScript-based exporter warns that it is legacy
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module, args, str(path), input_names=names, output_names=["log_probs"], dynamic_axes=axes, dynamo=False
        )
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[TinyCTC, Path]:
    folder = tmp_path_factory.mktemp("onnx")
    module = TinyCTC()
    return module, export(module, folder / "tiny.onnx")


def waves() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.uniform(-1, 1, n).astype(np.float32) for n in (16000, 7333, 24011, 400)]


def torch_log_probs(module: torch.nn.Module, wave: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        out = module(torch.from_numpy(wave)[None], torch.tensor([wave.shape[0]]))
    return out[0].numpy()


@pytest.mark.extra("onnx")
def test_emissions_equal_the_torch_models_log_probs(tiny):
    module, path = tiny
    am = AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS))
    em = am.logits(waves())
    assert am.frame_rate == 50.0 and am.min_samples == KERNEL and am.lengths_input == "waveform_lengths"
    for row, wave in enumerate(waves()):
        expected = torch_log_probs(module, wave)
        assert int(em.lengths[row]) == expected.shape[0] == (wave.shape[0] - KERNEL) // STRIDE + 1
        np.testing.assert_allclose(em.utterance(row).numpy(), expected, atol=1e-5)
    assert em.logits.dtype == torch.float32 and em.logits.device.type == "cpu" and em.indices == (0, 1, 2, 3)


@pytest.mark.extra("onnx")
def test_max_batch_size_caps_every_forward_pass_and_the_logits_do_not_change(tiny, monkeypatch):
    from ctcdecode_kit.onnx_model import OnnxAcousticModel

    _, path = tiny
    passes: list[int] = []
    forward = OnnxAcousticModel._forward
    monkeypatch.setattr(OnnxAcousticModel, "_forward", lambda self, w: passes.append(len(w)) or forward(self, w))
    one = AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS))  # default max_batch_size=1
    single = one.logits(waves(), batch_size=8)
    assert one.max_batch_size == 1 and passes == [1, 1, 1, 1]
    passes.clear()
    capped = AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS), max_batch_size=3)
    batched = capped.logits(waves(), batch_size=8)
    assert passes == [3, 1]
    # this model's frames do not see each other, so padded batches give the same log-probs
    torch.testing.assert_close(single.logits, batched.logits, atol=1e-5, rtol=0)
    assert single.lengths.tolist() == batched.lengths.tolist()


@pytest.mark.extra("onnx")
def test_model_without_lengths_input_and_vocabulary_beside_it(tmp_path):
    module = NoLengths()
    path = export(module, tmp_path / "model.onnx", with_lengths=False)
    (tmp_path / "tokens.txt").write_text("\n".join(LABELS) + "\n")
    am = AcousticModel.from_pretrained(str(path))  # an .onnx path goes to from_onnx
    assert am.lengths_input is None and am.vocabulary.tokens == tuple(LABELS)
    wave = waves()[0]
    with torch.inference_mode():
        expected = module(torch.from_numpy(wave)[None])[0].numpy()
    np.testing.assert_allclose(am.logits([wave]).utterance(0).numpy(), expected, atol=1e-5)


@pytest.mark.extra("onnx")
def test_frame_rate_argument_is_used_and_checked(tiny):
    _, path = tiny
    am = AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS), frame_rate=50)
    assert am.samples_per_frame == STRIDE and am.output_lengths([399, 400, 16000]).tolist() == [0, 1, 49]
    with pytest.raises(InputError, match="could not find its frame count"):
        AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS), frame_rate=100)


@pytest.mark.extra("onnx")
def test_too_short_audio_is_refused_naming_the_minimum(tiny):
    _, path = tiny
    am = AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS))
    with pytest.raises(InputError, match="needs at least 400 samples"):
        am.logits([np.zeros(399, np.float32)])


@pytest.mark.extra("onnx")
def test_bad_files_and_shapes_give_clear_errors(tiny, tmp_path):
    _, path = tiny
    with pytest.raises(MissingFileError, match="does not exist"):
        AcousticModel.from_onnx(tmp_path / "missing.onnx", Vocabulary.from_labels(LABELS))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf")
    with pytest.raises(InputError, match="not a loadable ONNX model"):
        AcousticModel.from_onnx(junk, Vocabulary.from_labels(LABELS))
    with pytest.raises(VocabularyError, match="outputs 5 classes but the vocabulary has 4"):
        AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS[:4]))
    flat = export(FlatOutput(), tmp_path / "flat.onnx", with_lengths=False)
    with pytest.raises(InputError, match=r"expected \[batch, frames, vocabulary\]"):
        AcousticModel.from_onnx(flat, Vocabulary.from_labels(LABELS))
    with pytest.raises(VocabularyError, match="needs a vocabulary"):
        AcousticModel.from_onnx(path, None)
    with pytest.raises(InputError, match="max_batch_size"):
        AcousticModel.from_onnx(path, Vocabulary.from_labels(LABELS), max_batch_size=0)


def test_missing_onnxruntime_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    model = tmp_path / "model.onnx"
    model.write_bytes(b"")
    with pytest.raises(MissingDependencyError, match=r"pip install 'ctcdecode-kit\[onnx\]'"):
        AcousticModel.from_onnx(model, Vocabulary.from_labels(LABELS))


@pytest.mark.extra("onnx")
def test_cli_transcribe_and_compare_take_an_onnx_model(tiny, tmp_path):
    from typer.testing import CliRunner

    from ctcdecode_kit.cli import app

    _, path = tiny
    (tmp_path / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(LABELS)}))
    import soundfile

    data = tmp_path / "data"
    data.mkdir()
    for i, wave in enumerate(waves()[:2]):
        soundfile.write(data / f"u{i}.wav", wave * 0.5, 16000)
    (data / "trans.txt").write_text("u0\tA B\nu1\tC\n")
    runner = CliRunner()
    result = runner.invoke(app, ["compare", "--model", str(path), "--vocab", str(tmp_path / "vocab.json"),
                                 "--data", str(data), "-d", "greedy", "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "greedy" in result.output
    # the .onnx file is part of the run's fingerprint: an edited model is another run, never stale logits
    import os

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = runner.invoke(app, ["compare", "--model", str(path), "--vocab", str(tmp_path / "vocab.json"),
                                "--data", str(data), "-d", "greedy", "-o", str(tmp_path / "run")])
    assert again.exit_code == 2 and "--overwrite" in again.output, again.output
    result = runner.invoke(app, ["compare", "--model", str(path), "--data", str(data), "-d", "greedy"])
    assert result.exit_code == 2 and "needs a vocabulary" in result.output


@pytest.mark.extra("onnx")
def test_hama_phoneme_model_reads_librispeech_with_few_phoneme_errors(shared):
    require_module("onnxruntime", install=INSTALL)
    require_module("hama", install=INSTALL)
    from ctcdecode_kit import build_decoder
    from ctcdecode_kit.onnx_model import HAMA_NOTE, hama_model

    am = hama_model()
    vocab = am.vocabulary
    assert len(vocab) == 191 and vocab.tokens[vocab.blank] == "<blank>" and vocab.blank == 190
    assert vocab.tokens[vocab.word_delimiter] == "<wb>" and vocab.word_delimiter == 189
    assert {0, 4} <= vocab.special  # '<pad>' and ' ' are neither the blank nor the delimiter
    assert am.max_batch_size == 1 and am.frame_rate == 50.0 and am.license_note == HAMA_NOTE and "undocumented" in HAMA_NOTE
    em = am.logits([shared.path("librispeech-audio/1089-134686-0001.wav")])
    text = build_decoder("greedy", vocab).decode(em.logits.numpy(), em.lengths.numpy())[0][0].text
    assert em.logits.shape[2] == 191 and int(em.lengths[0]) == 332  # 6.625 s at 50 frames/s, +1
    # "after early nightfall the yellow lamps would light up here and there ..."
    assert text.split()[:6] == ["æftɝ", "ɝli", "naɪtfɔl", "ði", "jɛloʊ", "læmps"]
