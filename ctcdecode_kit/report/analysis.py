"""The numbers of an error-analysis report, computed once from a run's journal rows.

:func:`analyse` takes the rows of ``hyps.jsonl`` (one per decoder and utterance) and
returns an :class:`Analysis`: per decoder the contract fields that go into
``results.json`` (``ser``, ``wer_ci95``, ``cer_ci95``, ``p_value_vs_baseline``,
``words_fixed``, ``words_broken``, ``oracle_wer``, and a few more), the run-level ones
(``baseline``, ``oov_rate``, ``lm_warnings``), and the details only the HTML shows
(error tables, helped/hurt utterances, per-utterance alignments). ``report.html`` and
``results.json`` are both written from one :class:`Analysis`, so they agree exactly.

Utterances are taken in id order (sorted), whatever order a run (resumed, or spread over
workers) journaled them in, so the bootstrap draws the same resamples at run time and
when ``ctcdecode-kit report`` rebuilds the file.

Example:
    >>> rows = [
    ...     {"decoder": d, "id": i, "reference": ref, "text": hyp, "frames": 50, "decode_seconds": 0.01}
    ...     for d, i, ref, hyp in [("greedy", "a", "THE CAT", "THE HAT"), ("greedy", "b", "A DOG", "A DOG"),
    ...                            ("beam", "a", "THE CAT", "THE CAT"), ("beam", "b", "A DOG", "A FOG")]]
    >>> a = analyse(rows, ["greedy", "beam"], frame_rate=50.0)
    >>> a.baseline, a.decoders["beam"]["words_fixed"], a.decoders["beam"]["words_broken"], a.decoders["beam"]["ser"]
    ('greedy', 1, 1, 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, ResultsError
from . import stats
from .alignment import Alignment, align
from .attribution import error_tables, extremes, oracle_errors, word_changes
from .diagnostics import LMDiagnostics, lm_diagnostics

__all__ = ["RESULT_FIELDS", "RUN_FIELDS", "Analysis", "analyse", "check_report_options", "resolve_baseline"]

RESULT_FIELDS = (
    "ser", "wer_ci95", "cer_ci95", "p_value_vs_baseline", "sign_test_p_value", "utterances_better",
    "utterances_worse", "words_fixed", "words_broken", "oracle_wer", "oov_error_share",
)
"""The per-decoder fields :func:`analyse` adds to each row of ``results.json``'s ``decoders``."""
RUN_FIELDS = ("baseline", "oov_rate", "lm_warnings", "significance_tests")
"""The top-level fields it adds to ``results.json``."""


def resolve_baseline(labels: Sequence[str], baseline: str | None = None) -> str:
    """The baseline decoder: ``baseline`` when given (it must be one of ``labels``), else ``greedy``
    when it is there, else the first label.

    Example:
        >>> resolve_baseline(["native", "greedy"]), resolve_baseline(["native", "native+lm"])
        ('greedy', 'native')
    """
    if not labels:
        raise InputError("a report needs at least one decoder")
    if baseline is None:
        return "greedy" if "greedy" in labels else labels[0]
    if baseline not in labels:
        raise InputError(f"--baseline {baseline!r} is not one of the run's decoders ({', '.join(labels)})")
    return baseline


def check_report_options(labels: Sequence[str], *, nbest: int | None = None, baseline: str | None = None) -> dict[str, Any]:
    """Check ``compare``'s report options before any work; the ones given, for the run's settings.

    Example:
        >>> check_report_options(["greedy", "native"], nbest=4), check_report_options(["greedy"])
        ({'nbest': 4}, {})
    """
    from ..inputs import check_positive_int

    out: dict[str, Any] = {}
    if nbest is not None:
        out["nbest"] = check_positive_int("nbest", nbest)
    if baseline is not None:
        out["baseline"] = resolve_baseline(labels, baseline)
    return out


@dataclass
class Analysis:
    """What :func:`analyse` computed (see the module docs).

    Attributes:
        baseline: the decoder the others are compared with.
        labels / ids: decoders in table order, utterances in id order.
        decoders: per decoder, the fields of :data:`RESULT_FIELDS`.
        oov_rate / lm_warnings: the LM diagnostics' results (None / [] without an LM).
        alignments: per decoder, its :class:`~ctcdecode_kit.report.alignment.Alignment`.
        details: per decoder, what only the HTML report shows.
        utterances: per utterance, its id, duration, audio path and reference.
    """

    baseline: str
    labels: list[str]
    ids: list[str]
    decoders: dict[str, dict[str, Any]]
    oov_rate: float | None
    lm_warnings: list[str]
    lm: LMDiagnostics
    alignments: dict[str, Alignment]
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    utterances: list[dict[str, Any]] = field(default_factory=list)

    def run_fields(self) -> dict[str, Any]:
        """The top-level fields for ``results.json`` (:data:`RUN_FIELDS`)."""
        return {
            "baseline": self.baseline,
            "oov_rate": self.oov_rate,
            "lm_warnings": list(self.lm_warnings),
            "significance_tests": {"p_value_vs_baseline": stats.BOOTSTRAP_TEST, "sign_test_p_value": stats.SIGN_TEST},
        }


def _rows(records: Iterable[Mapping[str, Any]] | Mapping[Any, Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    values = records.values() if isinstance(records, Mapping) else records
    return {(r["decoder"], r["id"]): r for r in values}


def analyse(
    records: Iterable[Mapping[str, Any]] | Mapping[Any, Mapping[str, Any]],
    labels: Sequence[str],
    *,
    frame_rate: float,
    baseline: str | None = None,
    lm: Any = None,
    vocabulary: Any = None,
    lm_recorded_path: str | None = None,
    top: int = 20,
) -> Analysis:
    """Compute every number of the report from journal rows (see the module docs).

    Args:
        records: ``hyps.jsonl`` rows (``decoder``, ``id``, ``reference``, ``text``, ``frames``,
            ``decode_seconds``; ``nbest`` and ``audio`` when the run kept them), as a list or
            keyed by ``(decoder, id)``.
        labels: the decoders, in table order; each must have a row for every utterance.
        frame_rate: frames per second of the logits (for durations).
        baseline: see :func:`resolve_baseline`.
        lm: the run's LM (a path, an LM object or None), for the OOV rate and warnings.
        vocabulary: the run's :class:`~ctcdecode_kit.Vocabulary` (None: the checks that need it are left out).
        lm_recorded_path: the absolute LM path the run saw (tried when ``lm`` has moved).
        top: rows kept in each error table.

    Raises:
        ResultsError: a decoder lacks rows for some utterances (an unfinished run).
    """
    labels = list(labels)
    base = resolve_baseline(labels, baseline)
    rows = _rows(records)
    ids = sorted({u for (_, u) in rows})
    if not ids:
        raise ResultsError("the run has no decoded utterances; nothing to report")
    for label in labels:
        missing = [u for u in ids if (label, u) not in rows]
        if missing:
            raise ResultsError(
                f"decoder {label!r} has no result for {len(missing)} of {len(ids)} utterances (e.g. {missing[0]!r}); "
                f"finish the run with `compare --resume` first"
            )
    references = [rows[(labels[0], u)]["reference"] for u in ids]
    alignments = {label: align(references, [rows[(label, u)]["text"] for u in ids]) for label in labels}
    refs = alignments[labels[0]].refs
    lm_info = lm_diagnostics(lm, vocabulary, refs, recorded_path=lm_recorded_path)
    idx = stats.resample_indices(len(ids))
    b = alignments[base]
    decoders: dict[str, dict[str, Any]] = {}
    details: dict[str, dict[str, Any]] = {}
    for label in labels:
        a = alignments[label]
        errors = a.errors
        is_base = label == base
        changes = word_changes(b, a)
        sign = stats.sign_test(b.errors, errors)
        nbest = [rows[(label, u)].get("nbest") for u in ids]
        oracle = None
        if all(n is not None for n in nbest):
            best = oracle_errors(references, [[h["text"] for h in n] for n in nbest])  # type: ignore[union-attr]
            oracle = float(best.sum() / a.ref_words.sum())
        wrong = [~ok for ok in a.correct]
        n_wrong = sum(int(w.sum()) for w in wrong)
        oov_share = None
        if lm_info.masks is not None:
            on_oov = sum(int((w & m).sum()) for w, m in zip(wrong, lm_info.masks))
            oov_share = float(on_oov / n_wrong) if n_wrong else 0.0
        decoders[label] = {
            "ser": float(np.count_nonzero(errors) / len(ids)),
            "wer_ci95": stats.bootstrap_ci(errors, a.ref_words, idx),
            "cer_ci95": stats.bootstrap_ci(a.char_errors, a.ref_chars, idx),
            "p_value_vs_baseline": None if is_base else stats.paired_bootstrap_p(errors, b.errors, a.ref_words, idx),
            "sign_test_p_value": None if is_base else sign.p_value,
            "utterances_better": sign.better,
            "utterances_worse": sign.worse,
            "words_fixed": changes.fixed,
            "words_broken": changes.broken,
            "oracle_wer": oracle,
            "oov_error_share": oov_share,
        }
        helped, hurt = extremes(ids, errors - b.errors)
        tables = error_tables(a, top)
        details[label] = {
            "fixed_words": sorted(changes.fixed_words.items(), key=lambda kv: (-kv[1], kv[0]))[:top],
            "broken_words": sorted(changes.broken_words.items(), key=lambda kv: (-kv[1], kv[0]))[:top],
            "helped": helped,
            "hurt": hurt,
            "confusions": tables.confusions,
            "insertions": tables.insertions,
            "deletions": tables.deletions,
        }
    utterances = []
    for i, u in enumerate(ids):
        row = rows[(labels[0], u)]
        utterances.append({
            "id": u,
            "duration": float(row.get("frames", 0)) / frame_rate if frame_rate else 0.0,
            "audio": next((rows[(label, u)].get("audio") for label in labels if rows[(label, u)].get("audio")), None),
            "ref": refs[i],
        })
    return Analysis(
        baseline=base, labels=labels, ids=ids, decoders=decoders, oov_rate=lm_info.oov_rate,
        lm_warnings=list(lm_info.warnings), lm=lm_info, alignments=alignments, details=details, utterances=utterances,
    )
