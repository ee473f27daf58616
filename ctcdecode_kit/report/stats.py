"""Confidence intervals and paired significance tests over utterances.

All resampling is over utterances (an utterance's errors stay together, as in sclite's
and Bisani & Ney's bootstrap): :func:`resample_indices` draws ``RESAMPLES`` = 1,000
resamples with ``numpy.random.default_rng(SEED)``, ``SEED`` = 0, and every interval and
test of one report uses the same draws, so the numbers are reproducible and the tests are
paired.

* :func:`bootstrap_ci`: the 2.5th and 97.5th percentiles of the corpus rate
  ``sum(errors) / sum(reference units)`` over the resamples.
* :func:`paired_bootstrap_p`: two-sided p-value of "decoder and baseline have the same
  corpus WER": the resampled differences ``d_b`` are centred on the observed difference
  ``d`` and ``p = (1 + #{|d_b - d| >= |d|}) / (1 + B)`` (Efron & Tibshirani's shift
  method, the test Bisani & Ney use for ASR); 1.0 when ``d`` is 0.
* :func:`sign_test`: sclite's sign test: utterances where the decoder makes fewer word
  errors than the baseline against those where it makes more (ties dropped), two-sided
  exact binomial test with p = 1/2: ``min(1, 2 P(X <= min(k, n - k)))``, in exact integer
  arithmetic (what ``scipy.stats.binomtest`` gives for p = 1/2, without importing scipy.stats,
  which costs seconds).

Example:
    >>> import numpy as np
    >>> idx = resample_indices(4)
    >>> idx.shape
    (1000, 4)
    >>> low, high = bootstrap_ci(np.array([0, 1, 2, 0]), np.array([3, 3, 3, 3]), idx)
    >>> 0.0 <= low <= 3 / 12 <= high <= 1.0
    True
    >>> sign_test(np.array([2, 2, 1]), np.array([0, 0, 1])).better
    2
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOOTSTRAP_TEST",
    "RESAMPLES",
    "SEED",
    "SIGN_TEST",
    "SignTest",
    "bootstrap_ci",
    "paired_bootstrap_p",
    "resample_indices",
    "sign_test",
]

RESAMPLES = 1000
"""Bootstrap resamples of the utterances."""
SEED = 0
"""Seed of ``numpy.random.default_rng`` for the resamples."""
BOOTSTRAP_TEST = "paired bootstrap over utterances (1,000 resamples, seed 0, two-sided)"
"""How the report and results.json name the test behind ``p_value_vs_baseline``."""
SIGN_TEST = "sign test over utterances (fewer vs more word errors than the baseline, exact binomial, two-sided)"
"""How the report names the sign test beside it."""


def resample_indices(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """``resamples`` x ``n`` utterance indices drawn with replacement (the report's shared draws).

    Example:
        >>> resample_indices(3, resamples=2).tolist() == resample_indices(3, resamples=2).tolist()
        True
    """
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _rates(errors: np.ndarray, totals: np.ndarray, idx: np.ndarray) -> np.ndarray:
    num = errors[idx].sum(axis=1).astype(np.float64)
    den = totals[idx].sum(axis=1).astype(np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def bootstrap_ci(errors: np.ndarray, totals: np.ndarray, idx: np.ndarray, level: float = 0.95) -> list[float]:
    """``[low, high]`` percentile interval of ``sum(errors) / sum(totals)`` over the resamples ``idx``.

    Example:
        >>> bootstrap_ci(np.array([1, 1]), np.array([2, 2]), resample_indices(2))
        [0.5, 0.5]
    """
    rates = _rates(np.asarray(errors), np.asarray(totals), idx)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(rates, [tail, 100 - tail])
    return [float(low), float(high)]


def paired_bootstrap_p(errors: np.ndarray, baseline_errors: np.ndarray, totals: np.ndarray, idx: np.ndarray) -> float:
    """Two-sided paired-bootstrap p-value of a corpus-WER difference (see the module docs).

    Example:
        >>> paired_bootstrap_p(np.array([1, 0]), np.array([1, 0]), np.array([2, 2]), resample_indices(2))
        1.0
    """
    errors, baseline_errors, totals = np.asarray(errors), np.asarray(baseline_errors), np.asarray(totals)
    den = totals.sum()
    observed = float((errors.sum() - baseline_errors.sum()) / den) if den else 0.0
    if observed == 0.0:
        return 1.0
    diffs = _rates(errors, totals, idx) - _rates(baseline_errors, totals, idx)
    extreme = int(np.count_nonzero(np.abs(diffs - observed) >= abs(observed)))
    return (1 + extreme) / (1 + idx.shape[0])


@dataclass(frozen=True)
class SignTest:
    """Utterances with fewer (``better``) and more (``worse``) word errors than the baseline, and the p-value."""

    better: int
    worse: int
    ties: int
    p_value: float


def sign_test(baseline_errors: np.ndarray, errors: np.ndarray) -> SignTest:
    """sclite's sign test on per-utterance word errors (see the module docs).

    Example:
        >>> sign_test(np.array([1, 1]), np.array([1, 1])).p_value
        1.0
    """
    diff = np.asarray(errors) - np.asarray(baseline_errors)
    better, worse = int(np.count_nonzero(diff < 0)), int(np.count_nonzero(diff > 0))
    ties = int(diff.size - better - worse)
    n = better + worse
    tail = sum(math.comb(n, i) for i in range(min(better, worse) + 1))
    p = min(1.0, 2 * tail / 2**n) if n else 1.0
    return SignTest(better, worse, ties, float(p))
