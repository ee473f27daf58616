"""The run engines: compare with a KenLM binary LM (issue 11 item 4), a missing native build is
loud (item 10), tune derives its trials from one decoder, and runs/ stays out of the core."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ctcdecode_kit
from ctcdecode_kit import load_dataset
from ctcdecode_kit.errors import MissingDependencyError
from ctcdecode_kit.runs.compare import compare, plan_comparison, run_comparison
from ctcdecode_kit.runs.specs import available_decoder_specs


# ------------------------------------------------------------------ issue 11 item 4: KenLM binaries
def test_compare_with_a_kenlm_binary_lm_runs_every_default_decoder(cli, shared, tmp_path):
    out = tmp_path / "out"
    lm = shared.path("kenlm-bin/librispeech-3gram-pruned.probing.bin")
    result = cli.run("compare", "--logits", shared.path("wav2vec2-logits"), "--lm", lm, "--beam-width", "16", "-o", out)
    assert result.exit_code == 0, result.output
    rows = cli.results(out)
    assert list(rows) == available_decoder_specs(with_lm=True)
    assert all(row["wer"] == 0.0 for row in rows.values())


# ------------------------------------------------------------------ issue 11 item 10: no silent drop of native
@pytest.fixture()
def native_build_missing(monkeypatch):
    """Make ``ctcdecode_kit._native`` unimportable and the native backend not yet imported."""
    from ctcdecode_kit import decoder

    monkeypatch.setitem(sys.modules, "ctcdecode_kit._native", None)
    monkeypatch.delattr(ctcdecode_kit, "_native", raising=False)
    monkeypatch.delitem(sys.modules, "ctcdecode_kit.decoders.native", raising=False)
    monkeypatch.setitem(decoder._REGISTRY, "native", "ctcdecode_kit.decoders.native:NativeDecoder")


def test_a_missing_native_build_fails_loudly_instead_of_leaving_the_default_table(native_build_missing, shared):
    data = load_dataset(shared.path("wav2vec2-logits"))
    assert "native" in available_decoder_specs(with_lm=False)
    with pytest.raises(MissingDependencyError, match="compiled module ctcdecode_kit._native, which is missing.*pip install"):
        compare(data, vocabulary=data.vocabulary)


# ------------------------------------------------------------------ tune: one decoder, derived per trial
def test_tune_builds_its_decoder_once_and_derives_each_trial_with_with_options(shared, monkeypatch):
    from ctcdecode_kit import DecoderBase
    from ctcdecode_kit.runs import specs
    from ctcdecode_kit.runs.logits_cache import utterance_log_probs
    from ctcdecode_kit.runs.tune import tune

    data = load_dataset(shared.path("wav2vec2-logits"))
    built, derived = [], []
    real_build, real_derive = specs.build_decoder, DecoderBase.with_options
    monkeypatch.setattr(specs, "build_decoder", lambda *a, **k: built.append(k) or real_build(*a, **k))
    monkeypatch.setattr(DecoderBase, "with_options", lambda self, **k: derived.append(k) or real_derive(self, **k))
    result = tune(utterance_log_probs(data, None, data.vocabulary), data.references, data.vocabulary,
                  lm=str(shared.path("kenlm/test.arpa")), decoder="native", trials=4, beam_width=8)
    assert len(built) == 1 and built[0]["beam_width"] == 8
    assert derived == [{"alpha": t.alpha, "beta": t.beta} for t in result.trials]


# ------------------------------------------------------------------ the engine's pieces
def test_compare_is_a_plan_then_a_run(shared, tmp_path):
    data = load_dataset(shared.path("wav2vec2-logits"))
    plan = plan_comparison(data, decoders=["greedy", "native"], vocabulary=data.vocabulary, frame_rate=50)
    assert plan.labels == ["greedy", "native"] and plan.fingerprint["decoders"] == ["greedy", "native"]
    assert plan.fingerprint["lm"] is None and plan.fingerprint["model"] is None
    comparison = run_comparison(plan, output_dir=tmp_path / "out")
    assert [r.wer for r in comparison.results] == [0.0, 0.0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "hyps.jsonl", "report.html", "results.csv", "results.json", "run.json", "wer_vs_time.png"]


def test_the_native_backend_and_the_package_import_without_runs():
    code = (
        "import sys, ctcdecode_kit, ctcdecode_kit.decoders.native\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ctcdecode_kit.runs', 'ctcdecode_kit.acoustic'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_transcribe_is_still_exported_by_the_package():
    from ctcdecode_kit import transcribe
    from ctcdecode_kit.runs.transcribe import transcribe as engine

    assert transcribe is engine
