"""Error analysis of a comparison: what the LM and the beam bought, where, and whether it is real.

``compare`` writes ``report.html`` into its output folder (``compare --no-report`` skips
it) and adds the same numbers to ``results.json``; ``ctcdecode-kit report RUN_DIR``
rebuilds both from the folder's ``hyps.jsonl``. The parts, one module each:

* :mod:`~ctcdecode_kit.report.alignment`: per-utterance jiwer alignments (words and characters);
* :mod:`~ctcdecode_kit.report.stats`: bootstrap intervals, the paired bootstrap and the sign test;
* :mod:`~ctcdecode_kit.report.attribution`: words fixed/broken, helped/hurt utterances, n-best oracle, error tables;
* :mod:`~ctcdecode_kit.report.diagnostics`: OOV rate and LM/vocabulary mismatch warnings;
* :mod:`~ctcdecode_kit.report.analysis`: all of it from a run's journal rows, in one :class:`Analysis`;
* :mod:`~ctcdecode_kit.report.html`: the self-contained page;
* :mod:`~ctcdecode_kit.report.run`: reading and writing a run folder.

Example:
    >>> rows = [{"decoder": "greedy", "id": "a", "reference": "HI", "text": "HI", "frames": 50, "decode_seconds": 0.01}]
    >>> analyse(rows, ["greedy"], frame_rate=50.0).decoders["greedy"]["wer_ci95"]
    [0.0, 0.0]
"""

from __future__ import annotations

from .analysis import RESULT_FIELDS, RUN_FIELDS, Analysis, analyse, resolve_baseline
from .run import REPORT_FILE, rebuild_report, report_run

__all__ = [
    "REPORT_FILE",
    "RESULT_FIELDS",
    "RUN_FIELDS",
    "Analysis",
    "analyse",
    "rebuild_report",
    "report_run",
    "resolve_baseline",
]
