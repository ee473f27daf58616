"""The report's numbers: equal in results.json and report.html, and equal to a direct jiwer computation."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jiwer
import numpy as np
import pytest

from ctcdecode_kit.metrics import normalize_text
from ctcdecode_kit.report import RESULT_FIELDS, analyse
from ctcdecode_kit.report.run import read_journal_rows
from tests.report.conftest import DECODERS, UTTERANCES, run_cli


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def page_data(folder: Path) -> dict:
    """The JSON report.html embeds."""
    html = (folder / "report.html").read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, flags=re.DOTALL)
    assert match, "report.html embeds no data"
    return json.loads(match.group(1))


def by_decoder(data: dict) -> dict[str, dict]:
    return {row["decoder"]: row for row in data["decoders"]}


def journal(folder: Path) -> dict[tuple[str, str], dict]:
    return {(r["decoder"], r["id"]): r for r in read_journal_rows(folder / "hyps.jsonl")}


def test_results_json_gains_every_report_field_per_decoder_and_at_the_top(known_run):
    data = results(known_run)
    assert data["baseline"] == "greedy"
    assert {"oov_rate", "lm_warnings"} <= set(data)
    for row in data["decoders"]:
        assert set(RESULT_FIELDS) <= set(row)
        assert len(row["wer_ci95"]) == 2 and row["wer_ci95"][0] <= row["wer"] <= row["wer_ci95"][1]
        assert len(row["cer_ci95"]) == 2 and row["cer_ci95"][0] <= row["cer"] <= row["cer_ci95"][1]
    assert by_decoder(data)["greedy"]["p_value_vs_baseline"] is None
    assert 0 < by_decoder(data)["native+lm"]["p_value_vs_baseline"] <= 1


def test_report_html_embeds_exactly_the_numbers_of_results_json(known_run):
    assert page_data(known_run)["results"] == results(known_run)


def test_wer_and_error_counts_equal_a_direct_jiwer_computation(known_run):
    rows = journal(known_run)
    ids = sorted(UTTERANCES)
    for label, row in by_decoder(results(known_run)).items():
        refs = [normalize_text(rows[(label, u)]["reference"]) for u in ids]
        hyps = [normalize_text(rows[(label, u)]["text"]) for u in ids]
        out = jiwer.process_words(refs, hyps)
        assert row["wer"] == pytest.approx(jiwer.wer(refs, hyps), abs=1e-12)
        assert (row["substitutions"], row["deletions"], row["insertions"]) == (out.substitutions, out.deletions, out.insertions)
        assert row["ser"] == pytest.approx(np.mean([r != h for r, h in zip(refs, hyps)]))


def test_words_fixed_and_broken_are_the_known_ones(known_run):
    """The LM fixes CAT twice (u01, u06) and breaks DOG once (u02); native without LM changes nothing."""
    rows = by_decoder(results(known_run))
    assert (rows["native+lm"]["words_fixed"], rows["native+lm"]["words_broken"]) == (2, 1)
    assert (rows["native"]["words_fixed"], rows["native"]["words_broken"]) == (0, 0)
    details = page_data(known_run)["details"]["native+lm"]
    assert details["fixed_words"] == [["CAT", 2]] and details["broken_words"] == [["DOG", 1]]
    assert set(details["helped"]) == {"u01", "u06"} and details["hurt"] == ["u02"]
    assert ["CAT", "HAT", 2] in page_data(known_run)["details"]["greedy"]["confusions"]
    assert page_data(known_run)["details"]["greedy"]["deletions"] == [["ON", 1]]
    assert page_data(known_run)["details"]["greedy"]["insertions"] == [["THE", 1]]


def test_bootstrap_and_tests_equal_a_direct_computation(known_run):
    """1,000 resamples of utterances with default_rng(0), redone here from jiwer's per-utterance counts."""
    rows = journal(known_run)
    ids = sorted(UTTERANCES)

    def counts(label):
        refs = [normalize_text(rows[(label, u)]["reference"]) for u in ids]
        hyps = [normalize_text(rows[(label, u)]["text"]) for u in ids]
        words = [jiwer.process_words(r, h) for r, h in zip(refs, hyps)]
        chars = [jiwer.process_characters(r, h) for r, h in zip(refs, hyps)]
        return (np.array([w.substitutions + w.deletions + w.insertions for w in words]),
                np.array([len(r.split()) for r in refs]),
                np.array([c.substitutions + c.deletions + c.insertions for c in chars]),
                np.array([len(r) for r in refs]))

    idx = np.random.default_rng(0).integers(0, len(ids), size=(1000, len(ids)))
    base_err, _, _, _ = counts("greedy")
    for label, row in by_decoder(results(known_run)).items():
        err, words, cerr, chars = counts(label)
        wer = err[idx].sum(1) / words[idx].sum(1)
        cer = cerr[idx].sum(1) / chars[idx].sum(1)
        assert row["wer_ci95"] == pytest.approx(list(np.percentile(wer, [2.5, 97.5])), abs=1e-12)
        assert row["cer_ci95"] == pytest.approx(list(np.percentile(cer, [2.5, 97.5])), abs=1e-12)
        if label == "greedy":
            continue
        observed = (err.sum() - base_err.sum()) / words.sum()
        diffs = wer - base_err[idx].sum(1) / words[idx].sum(1)
        expected = 1.0 if observed == 0 else (1 + np.sum(np.abs(diffs - observed) >= abs(observed))) / 1001
        assert row["p_value_vs_baseline"] == pytest.approx(expected, abs=1e-12)
        from scipy.stats import binomtest

        better, worse = int(np.sum(err < base_err)), int(np.sum(err > base_err))
        assert (row["utterances_better"], row["utterances_worse"]) == (better, worse)
        sign = 1.0 if better + worse == 0 else binomtest(better, better + worse, 0.5).pvalue
        assert row["sign_test_p_value"] == pytest.approx(sign, rel=1e-9)


def nbest_rows(known_data, k: int = 4) -> list[dict]:
    """Journal-style rows of native (no LM) over the known data with its k-best lists (decoded here)."""
    from ctcdecode_kit import build_decoder
    from ctcdecode_kit.datasets import load_dataset

    dataset = load_dataset(known_data[0])
    decoder = build_decoder("native", dataset.vocabulary)
    rows = []
    for utt in dataset:
        hyps = decoder.decode(utt.logits[None], nbest=k)[0]
        rows.append({"decoder": "native", "id": utt.id, "reference": utt.reference, "text": hyps[0].text,
                     "frames": utt.logits.shape[0], "decode_seconds": 0.0,
                     "nbest": [{"text": h.text, "score": h.score, "am_score": h.am_score, "lm_score": h.lm_score}
                               for h in hyps]})
    return rows


def test_oracle_wer_is_the_best_of_each_kept_nbest_list(known_data):
    rows = nbest_rows(known_data)
    assert any(len(r["nbest"]) > 1 for r in rows)
    best = 0
    for r in rows:
        ref = normalize_text(r["reference"])
        best += min(sum(getattr(jiwer.process_words(ref, normalize_text(h["text"])), k)
                        for k in ("substitutions", "deletions", "insertions")) for h in r["nbest"])
    decoder = analyse(rows, ["native"], frame_rate=50.0).decoders["native"]
    words = sum(len(normalize_text(r["reference"]).split()) for r in rows)
    assert decoder["oracle_wer"] == pytest.approx(best / words, abs=1e-12)
    # the best path writes HAT twice; the 4-best lists hold CAT too, so only the deletion and the insertion remain
    assert decoder["oracle_wer"] == pytest.approx(2 / 31) and decoder["wer_ci95"][0] <= 4 / 31


def test_compare_nbest_keeps_k_hypotheses_per_row(known_run):
    rows = journal(known_run)
    for row in rows.values():
        assert 1 <= len(row["nbest"]) <= 4 and row["nbest"][0]["text"] == row["text"]
        assert {"text", "score", "am_score", "lm_score"} <= set(row["nbest"][0])
    assert all(row["oracle_wer"] is not None for row in results(known_run)["decoders"])


def test_oracle_wer_is_null_without_nbest(known_data, tmp_path):
    out = tmp_path / "out"
    result = run_cli("compare", "--logits", known_data[0], "-d", "greedy", "-d", "native", "--output", out,
                     "--no-report")
    assert result.exit_code == 0, result.output
    assert all(row["oracle_wer"] is None for row in results(out)["decoders"])
    assert not (out / "report.html").exists(), "--no-report must skip report.html"
    assert results(out)["oov_rate"] is None and results(out)["lm_warnings"] == []


def test_oov_rate_and_errors_on_oov_words(known_run):
    """DOG is the one reference word the LM lacks (1 of 31 words); it is half of native+lm's word errors."""
    data = results(known_run)
    assert data["oov_rate"] == pytest.approx(1 / 31)
    assert data["lm_warnings"] == []
    assert by_decoder(data)["native+lm"]["oov_error_share"] == pytest.approx(1 / 2)


def test_rebuild_gives_the_same_results_and_report(run_copy):
    before, page_before = results(run_copy), page_data(run_copy)
    (run_copy / "report.html").unlink()
    result = run_cli("report", run_copy)
    assert result.exit_code == 0, result.output
    assert results(run_copy) == before
    assert page_data(run_copy) == page_before


def test_rebuild_with_another_baseline_compares_against_it(run_copy):
    result = run_cli("report", run_copy, "--baseline", "native+lm")
    assert result.exit_code == 0, result.output
    data = results(run_copy)
    assert data["baseline"] == "native+lm" and page_data(run_copy)["baseline"] == "native+lm"
    rows = by_decoder(data)
    assert rows["native+lm"]["p_value_vs_baseline"] is None
    assert (rows["greedy"]["words_fixed"], rows["greedy"]["words_broken"]) == (1, 2)


def test_unknown_baseline_is_a_one_line_error(run_copy, known_data, tmp_path):
    result = run_cli("report", run_copy, "--baseline", "beam-me-up")
    assert result.exit_code == 2
    assert "--baseline 'beam-me-up' is not one of the run's decoders (greedy, native, native+lm)" in result.output
    result = run_cli("compare", "--logits", known_data[0], "-d", "greedy", "--baseline", "native", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "--baseline 'native'" in result.output
    assert not (tmp_path / "o" / "hyps.jsonl").exists(), "a bad --baseline is refused before any work"


def test_report_of_a_folder_without_results_says_what_is_missing(tmp_path):
    result = run_cli("report", tmp_path)
    assert result.exit_code == 2
    assert "no results.json in" in result.output and "compare --resume" in result.output


def test_default_baseline_is_the_first_decoder_without_greedy(known_data, tmp_path):
    out = tmp_path / "out"
    result = run_cli("compare", "--logits", known_data[0], "--lm", known_data[1], "-d", "native+lm", "-d", "native",
                     "--output", out)
    assert result.exit_code == 0, result.output
    assert results(out)["baseline"] == "native+lm"


def test_moved_lm_leaves_the_oov_rate_out_and_says_so(known_data, tmp_path):
    data, lm = known_data
    moving = tmp_path / "moving.arpa"
    shutil.copy(lm, moving)
    out = tmp_path / "out"
    result = run_cli("compare", "--logits", data, "--lm", moving, "-d", "greedy", "-d", "native+lm", "--output", out)
    assert result.exit_code == 0, result.output
    assert results(out)["oov_rate"] == pytest.approx(1 / 31)
    moving.rename(tmp_path / "elsewhere.arpa")
    result = run_cli("report", out)
    assert result.exit_code == 0, result.output
    data_after = results(out)
    assert data_after["oov_rate"] is None
    assert any("no longer there" in w and str(moving) in w for w in data_after["lm_warnings"])
    assert page_data(out)["lm"]["warnings"] == data_after["lm_warnings"]


def test_resumed_run_reports_the_same_numbers_as_a_run_in_one_go(known_data, known_run, tmp_path):
    data, lm = known_data
    out = tmp_path / "out"
    args = ["compare", "--logits", data, "--lm", lm, "--nbest", 4, "--output", out] + [a for d in DECODERS for a in ("-d", d)]
    assert run_cli(*args).exit_code == 0
    lines = (out / "hyps.jsonl").read_text().splitlines(keepends=True)
    (out / "hyps.jsonl").write_text("".join(lines[: len(lines) // 2]))  # as if killed half way
    for name in ("results.json", "report.html"):
        (out / name).unlink()
    result = run_cli(*args, "--resume")
    assert result.exit_code == 0, result.output
    timing = {"decode_seconds", "rtf", "wall_seconds", "acoustic_seconds"}
    strip = lambda d: [{k: v for k, v in row.items() if k not in timing} for row in d["decoders"]]
    assert strip(results(out)) == strip(results(known_run))
    assert page_data(out)["details"] == page_data(known_run)["details"]


def test_audio_is_linked_by_a_relative_path_never_embedded(tmp_path):
    """Rows that carry an audio path get a link relative to the report's folder."""
    from ctcdecode_kit.report.html import render_html, report_payload

    audio = tmp_path / "data" / "clips" / "a b.flac"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"fLaC-not-really")
    rows = [{"decoder": "greedy", "id": "a", "reference": "HI", "text": "HI", "frames": 50, "decode_seconds": 0.01,
             "audio": str(audio)}]
    analysis = analyse(rows, ["greedy"], frame_rate=50.0)
    folder = tmp_path / "runs" / "one"
    folder.mkdir(parents=True)
    results_ = {"settings": {}, "decoders": [{"decoder": "greedy", "wer": 0.0, "cer": 0.0, "decode_seconds": 0.01, "rtf": 0.01}]}
    payload = report_payload(analysis, {**results_, **analysis.run_fields()}, folder)
    assert payload["utts"][0][2] == "../../data/clips/a%20b.flac"
    assert b"fLaC" not in render_html(payload).encode()


def test_two_thousand_utterances_stay_under_ten_megabytes(big_report_path):
    path = big_report_path
    assert path.stat().st_size < 10_000_000
    assert len(page_data_from(path.read_text(encoding="utf-8"))["utts"]) == 2000


def page_data_from(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, flags=re.DOTALL)
    return json.loads(match.group(1))


def test_text_cannot_break_out_of_the_embedded_data(tmp_path):
    """A reference holding </script> stays data (normalisation aside, the embedding escapes '<')."""
    from ctcdecode_kit.report.html import render_html, report_payload

    rows = [{"decoder": "greedy", "id": "</script><b>x", "reference": "A", "text": "A", "frames": 5, "decode_seconds": 0.0}]
    analysis = analyse(rows, ["greedy"], frame_rate=50.0)
    results_ = {"settings": {"data": "</script>"}, "decoders": [{"decoder": "greedy", "wer": 0.0, "cer": 0.0,
                                                                  "decode_seconds": 0.0, "rtf": 0.0}]}
    html = render_html(report_payload(analysis, {**results_, **analysis.run_fields()}, tmp_path))
    assert html.count("</script>") == 2  # the data block's and the code's own
    assert page_data_from(html)["utts"][0][0] == "</script><b>x"
