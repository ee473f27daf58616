"""A run folder's report: analyse its journal, add the numbers to ``results.json``, write ``report.html``.

* :func:`report_run` is what ``compare`` calls at the end of a run, with the journal rows,
  the LM and the vocabulary it already has;
* :func:`rebuild_report` is ``ctcdecode-kit report RUN_DIR``: it reads ``hyps.jsonl``,
  ``results.json`` (and ``run.json``) back, so finished, resumed and distributed runs all
  get the same file. The LM is ``results.json``'s ``settings.lm``; when that file is no
  longer there the report says so and leaves the OOV rate out.

Both write ``results.json`` (atomically) with the fields of
:data:`~ctcdecode_kit.report.analysis.RESULT_FIELDS` per decoder and
:data:`~ctcdecode_kit.report.analysis.RUN_FIELDS` at the top, plus the run's
``vocabulary`` (so a rebuild can check the LM against it), and ``report.html`` from the same
:class:`~ctcdecode_kit.report.analysis.Analysis`, so the two agree exactly.

Example:
    >>> import tempfile, pathlib
    >>> from ctcdecode_kit.datasets import load_dataset
    >>> from ctcdecode_kit.runs.compare import compare
    >>> data = load_dataset("../shared/data/wav2vec2-logits")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> _ = compare(data, decoders=["greedy", "native"], vocabulary=data.vocabulary, output_dir=out)
    >>> rebuild_report(out).name
    'report.html'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import MissingFileError, ResultsError
from ..runs.journal import atomic_write_json, atomic_write_text
from .analysis import RESULT_FIELDS, RUN_FIELDS, Analysis, analyse
from .html import render_html, report_payload

__all__ = ["REPORT_FILE", "enrich_results", "read_journal_rows", "rebuild_report", "report_run"]

REPORT_FILE = "report.html"
"""The report's file name in the run folder."""


def enrich_results(results: Mapping[str, Any], analysis: Analysis, vocabulary: Any = None) -> dict[str, Any]:
    """``results`` (results.json's content) with the analysis' fields added (earlier ones replaced)."""
    out = {k: v for k, v in results.items() if k not in RUN_FIELDS}
    out.update(analysis.run_fields())
    if vocabulary is not None:
        out["vocabulary"] = vocabulary.to_dict() if hasattr(vocabulary, "to_dict") else dict(vocabulary)
    out["decoders"] = [
        {**{k: v for k, v in row.items() if k not in RESULT_FIELDS}, **analysis.decoders.get(row["decoder"], {})}
        for row in results.get("decoders", [])
    ]
    return out


def _write(folder: Path, results: dict[str, Any], analysis: Analysis, vocabulary: Any, html: bool) -> dict[str, Any]:
    enriched = enrich_results(results, analysis, vocabulary)
    atomic_write_json(folder / "results.json", enriched)
    if html:
        atomic_write_text(folder / REPORT_FILE, render_html(report_payload(analysis, enriched, folder)))
    return enriched


def _read_results(folder: Path) -> dict[str, Any]:
    path = folder / "results.json"
    if not path.is_file():
        raise MissingFileError(
            f"no results.json in {str(folder)!r}: not a finished compare run (finish it with `compare --resume`)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("decoders"), list):
            raise ValueError("no 'decoders' list")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{str(path)!r} is not a compare results file ({exc})") from None
    return data


def report_run(
    folder: str | Path,
    records: Iterable[Mapping[str, Any]] | Mapping[Any, Mapping[str, Any]],
    labels: Sequence[str],
    *,
    lm: Any = None,
    vocabulary: Any = None,
    baseline: str | None = None,
    html: bool = True,
) -> dict[str, Any]:
    """Analyse a finished run whose ``results.json`` is written; add the numbers to it and write
    ``report.html`` (unless ``html`` is False). Returns the new ``results.json`` content."""
    folder = Path(folder)
    results = _read_results(folder)
    frame_rate = float(results.get("settings", {}).get("frame_rate") or 50.0)
    analysis = analyse(records, labels, frame_rate=frame_rate, baseline=baseline, lm=lm, vocabulary=vocabulary)
    return _write(folder, results, analysis, vocabulary, html)


def read_journal_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``hyps.jsonl`` journal (its header line left out; a torn last line dropped).

    A row seen twice (a decoder and utterance journaled again) keeps its last version.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"no hyps.jsonl in {str(path.parent)!r}: nothing to build a report from")
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    lines = path.read_bytes().split(b"\n")
    complete = lines[:-1]  # the last piece is either empty or a line torn by a crash
    for number, line in enumerate(complete, start=1):
        try:
            obj = json.loads(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ResultsError(f"results journal {str(path)!r} is corrupt at line {number} ({exc})") from None
        if number == 1 and isinstance(obj, dict) and "header" in obj:
            continue
        if not isinstance(obj, dict) or "decoder" not in obj or "id" not in obj:
            raise ResultsError(f"results journal {str(path)!r}, line {number}: not a decoder result row")
        rows[(obj["decoder"], obj["id"])] = obj
    return list(rows.values())


def _recorded_lm(folder: Path) -> dict[str, Any] | None:
    from ..runs.fingerprint import RUN_FILE

    path = folder / RUN_FILE
    if not path.is_file():
        return None
    try:
        lm = json.loads(path.read_text(encoding="utf-8"))["fingerprint"].get("lm")
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None
    return lm if isinstance(lm, dict) else None


def _vocabulary(results: Mapping[str, Any]) -> Any:
    from ..vocabulary import Vocabulary

    v = results.get("vocabulary")
    if not isinstance(v, dict):
        return None
    try:
        return Vocabulary(tuple(v["tokens"]), int(v["blank"]), v.get("word_delimiter"), frozenset(v.get("special", ())))
    except (KeyError, TypeError, ValueError):
        return None


def rebuild_report(run_dir: str | Path, *, baseline: str | None = None, html: bool = True) -> Path:
    """Rebuild ``report.html`` (and the report fields of ``results.json``) from a run folder.

    Raises:
        MissingFileError: ``run_dir`` lacks ``results.json`` or ``hyps.jsonl``.
        ResultsError: those files are corrupt, or the journal misses results (an unfinished run).
        InputError: ``baseline`` is not one of the run's decoders.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise MissingFileError(f"run folder {str(folder)!r} does not exist")
    results = _read_results(folder)
    rows = read_journal_rows(folder / "hyps.jsonl")
    labels = [row["decoder"] for row in results["decoders"]]
    settings = results.get("settings", {})
    recorded = _recorded_lm(folder)
    lm = settings.get("lm")
    extra_warnings: list[str] = []
    if lm is not None and recorded is not None and "path" not in recorded:
        extra_warnings.append(
            f"the run's LM was a {lm} object, not a file; a rebuild cannot read its words, so the OOV rate is left out"
        )
        lm = None
    elif lm is not None and recorded is not None and Path(str(lm)).expanduser().is_file() and "size" in recorded:
        stat = Path(str(lm)).expanduser().stat()
        if (stat.st_size, stat.st_mtime_ns) != (recorded.get("size"), recorded.get("mtime_ns")):
            extra_warnings.append(f"the LM file {str(lm)!r} has changed since the run; the OOV rate is for the file as it is now")
    vocabulary = _vocabulary(results)
    analysis = analyse(
        rows, labels, frame_rate=float(settings.get("frame_rate") or 50.0), lm=lm,
        baseline=baseline if baseline is not None else settings.get("baseline"),
        vocabulary=vocabulary, lm_recorded_path=(recorded or {}).get("path"),
    )
    analysis.lm_warnings[:0] = extra_warnings
    analysis.lm.warnings[:0] = extra_warnings
    _write(folder, results, analysis, vocabulary, html)
    return folder / REPORT_FILE
