"""``ctcdecode-kit lm export``: a model's tokenizer + feature extractor + the LM in the Hub "-with-lm" layout."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import ctcdecode_kit
from ctcdecode_kit.cli.app import app
from tests.conftest import require_module, shared_path, upper_arpa

runner = CliRunner()


def _model(folder: Path) -> Path:
    """A tiny wav2vec2 CTC model over the real wav2vec2 vocabulary, saved as a Hub model folder."""
    from transformers import Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    vocab = shared_path("wav2vec2-logits/vocab.json")
    config = Wav2Vec2Config(
        vocab_size=len(json.loads(vocab.read_text())), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2, pad_token_id=0,
    )
    Wav2Vec2ForCTC(config).save_pretrained(str(folder))
    Wav2Vec2FeatureExtractor().save_pretrained(str(folder))
    Wav2Vec2CTCTokenizer(str(vocab)).save_pretrained(str(folder))
    return folder


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    model = _model(tmp_path / "model")
    out = tmp_path / "with-lm"
    arpa = upper_arpa(shared_path("librispeech-lm/3-gram.pruned.arpa"), tmp_path / "upper.arpa")
    args = ["lm", "export", "--model", str(model), "--lm", str(arpa), str(out),
            "--alpha", "0.8", "--beta", "1.2"]
    for _ in range(2):  # a second export into the same folder works
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    return out


def test_lm_export_writes_tokenizer_feature_extractor_and_decoder(exported: Path) -> None:
    names = {p.name for p in exported.iterdir()}
    assert {"vocab.json", "tokenizer_config.json", "preprocessor_config.json", "alphabet.json", "language_model"} <= names
    assert sorted(p.name for p in (exported / "language_model").iterdir()) == ["attrs.json", "unigrams.txt", "upper.arpa"]
    decoder = ctcdecode_kit.from_pretrained(exported)
    assert (decoder.alpha, decoder.beta, decoder.lm_rules) == (0.8, 1.2, "pyctcdecode")
    x = np.load(shared_path("wav2vec2-logits/121-121726-0000.npy"))
    assert decoder.decode(x)[0][0].text.startswith("ALSO A POPULAR")


def test_lm_export_refuses_a_missing_lm_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lm", "export", "--model", str(tmp_path), "--lm", str(tmp_path / "no.arpa"),
                                 str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no.arpa" in result.output and "does not exist" in result.output and "Traceback" not in result.output


@pytest.mark.extra("pyctcdecode", "kenlm")
def test_lm_export_folder_decodes_identically_in_the_hf_processor(exported: Path) -> None:
    require_module("pyctcdecode", install="pip install 'ctcdecode-kit[pyctcdecode]'")
    require_module("kenlm", install="pip install 'ctcdecode-kit[kenlm]'")
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    from transformers import Wav2Vec2ProcessorWithLM

    processor = Wav2Vec2ProcessorWithLM.from_pretrained(str(exported))
    decoder = ctcdecode_kit.from_pretrained(exported)
    x = np.load(shared_path("wav2vec2-logits/121-121726-0000.npy")).astype(np.float32)
    rng = np.random.default_rng(1)
    batch = np.concatenate([x, x + rng.normal(0, 3, x.shape).astype(np.float32)])
    hf = processor.batch_decode(batch, output_word_offsets=True, num_processes=1)
    for i, hyps in enumerate(decoder.decode(batch)):
        hyp = hyps[0]
        assert hyp.text == hf.text[i]
        assert hyp.am_score == pytest.approx(hf.logit_score[i], rel=1e-6, abs=1e-3)
        assert hyp.score == pytest.approx(hf.lm_score[i], rel=1e-6, abs=1e-3)
        assert [(w.text, w.start_frame, w.end_frame) for w in hyp.words] == [
            (w["word"], w["start_offset"], w["end_offset"]) for w in hf.word_offsets[i]]
