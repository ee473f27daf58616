"""The report's WER equals NIST sclite's (Debian ``sctk``) on the same references and hypotheses."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from ctcdecode_kit.metrics import normalize_text
from ctcdecode_kit.report.run import read_journal_rows
from tests.conftest import skip_or_fail


def sclite_sum(tmp_path, refs: dict[str, str], hyps: dict[str, str]) -> dict[str, int]:
    """sclite's raw 'Sum' row (words, sentences, corr, sub, del, ins, err, sentence errors) for trn files."""
    sctk = shutil.which("sctk")
    if sctk is None:
        skip_or_fail("NIST sclite is missing (Debian package sctk: apt-get install -y sctk)")
    ref, hyp = tmp_path / "ref.trn", tmp_path / "hyp.trn"
    ref.write_text("".join(f"{text} (spk_{u})\n" for u, text in refs.items()))
    hyp.write_text("".join(f"{hyps[u]} (spk_{u})\n" for u in refs))
    out = subprocess.run([sctk, "sclite", "-r", str(ref), "trn", "-h", str(hyp), "trn", "-i", "rm", "-o", "rsum", "stdout"],
                         capture_output=True, text=True, check=True).stdout
    row = next(line for line in out.splitlines() if re.match(r"\s*\|\s*Sum\s*\|", line))
    values = [int(v) for v in re.findall(r"\d+", row)]
    return dict(zip(["sentences", "words", "corr", "sub", "del", "ins", "err", "sentence_errors"], values))


def test_wer_ser_and_error_counts_equal_sclites(known_run, tmp_path):
    results = {row["decoder"]: row for row in json.loads((known_run / "results.json").read_text())["decoders"]}
    rows = read_journal_rows(known_run / "hyps.jsonl")
    for label, row in results.items():
        mine = {r["id"]: r for r in rows if r["decoder"] == label}
        refs = {u: normalize_text(r["reference"]) for u, r in sorted(mine.items())}
        hyps = {u: normalize_text(r["text"]) for u, r in sorted(mine.items())}
        folder = tmp_path / label.replace("+", "_")
        folder.mkdir()
        s = sclite_sum(folder, refs, hyps)
        assert s["words"] == row["ref_words"] and s["sentences"] == row["n_utterances"]
        assert row["wer"] == s["err"] / s["words"], label
        assert (row["substitutions"], row["deletions"], row["insertions"]) == (s["sub"], s["del"], s["ins"]), label
        assert row["ser"] == s["sentence_errors"] / s["sentences"], label
