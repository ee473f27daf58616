"""N-best rescoring: a first-pass decoder proposes candidates, language models re-rank them.

The first pass (any registered decoder, ``"native"`` by default, or a decoder
object) returns ``candidates`` hypotheses per utterance; each is re-scored as::

    score = first_pass_score + sum_i(alpha_i * lm_i(text)) + beta * n_words

where ``first_pass_score`` is the first pass's own total ``Hypothesis.score`` (its
acoustic score plus whatever it fused: an LM, word bonuses, hotwords) and ``lm_i(text)``
is the unweighted natural-log probability of the whole text (``</s>`` included) under
the i-th language model. Ties keep the first-pass order, so with every weight at 0 the
first-pass ranking comes back unchanged, whatever the first pass fused.
``base="am"`` starts from ``am_score`` instead (the acoustic score alone: a first pass
that fused an LM then has that LM's contribution replaced by the rescoring LMs')::

    score = am_score + sum_i(alpha_i * lm_i(text)) + beta * n_words

``Hypothesis.am_score`` is the first pass's. ``Hypothesis.lm_score`` is the rescoring
LM's unweighted log-probability when there is one LM. With several LMs it is their
alpha-weighted mean ``sum(alpha_i * lm_i) / sum(alpha_i)`` (the plain mean when every
alpha is 0), so that ``score = base + sum(alpha_i) * lm_score + beta * n_words`` holds.

LMs are scored once per distinct text of a batch, through the LM's batched
``score_sentences`` when it has one (``CausalLM`` runs those on the GPU in batches).

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary, build_decoder
    >>> from ctcdecode_kit.lm import LanguageModelBase
    >>> class LikesB(LanguageModelBase):
    ...     order = 1
    ...     def begin(self): return ()
    ...     def score(self, state, word): return (0.0 if word == "B" else -20.0), ()
    ...     def end(self, state): return 0.0
    >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    >>> logits = np.log(np.array([[.1, .1, .6, .2], [.8, .1, .05, .05]]))
    >>> build_decoder("rescore", vocab, lms=LikesB(), alphas=1.0).decode(logits)[0][0].text
    'B'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from ..decoder import Decoder, DecoderBase, build_decoder, register_decoder
from ..errors import InputError
from ..hypothesis import Hypothesis
from ..inputs import check_finite_number, check_positive_int
from ..vocabulary import Vocabulary

__all__ = ["RescoreDecoder", "rescore_hypotheses"]

MAX_CANDIDATES = 10_000


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def rescore_hypotheses(
    nbest_lists: Sequence[Sequence[Hypothesis]],
    lms: Sequence[Any],
    alphas: Sequence[float],
    beta: float = 0.0,
    *,
    cases: Sequence[str | None] | None = None,
    base: str = "score",
) -> list[list[Hypothesis]]:
    """Re-rank n-best lists with language models (see the module docs for the formula).

    ``lms`` are checked :class:`~ctcdecode_kit.lm.LanguageModel` objects, ``cases``
    the case each LM wants its words in (None: unchanged). Returns new lists, best first.
    """
    from ctcdecode_kit.lm.casing import apply_case

    if base not in ("am", "score"):
        raise InputError(f"base must be 'am' or 'score', got {base!r}")
    cases = list(cases) if cases is not None else [None] * len(lms)
    texts = sorted({h.text for hyps in nbest_lists for h in hyps})
    scores: list[dict[str, float]] = []
    for lm, case in zip(lms, cases):
        words = [apply_case(t, case).split() for t in texts]
        batched = getattr(lm, "score_sentences", None)
        if callable(batched):
            values = list(batched(words))
        else:
            from ctcdecode_kit.lm import score_sentence

            values = [score_sentence(lm, w) for w in words]
        scores.append({t: float(v) for t, v in zip(texts, values)})
    total_alpha = math.fsum(alphas)
    result = []
    for hyps in nbest_lists:
        rescored = []
        for h in hyps:
            lm_values = [table[h.text] for table in scores]
            weighted = math.fsum(a * v for a, v in zip(alphas, lm_values))
            if len(lm_values) == 1:
                lm_score = lm_values[0]
            elif total_alpha != 0:
                lm_score = weighted / total_alpha
            else:
                lm_score = math.fsum(lm_values) / len(lm_values) if lm_values else 0.0
            start = h.am_score if base == "am" else h.score
            total = start + weighted + beta * len(h.text.split())
            rescored.append(replace(h, score=total, lm_score=lm_score))
        rescored.sort(key=lambda x: -x.score)  # stable: ties keep the first-pass order
        result.append(rescored)
    return result


class RescoreDecoder(DecoderBase):
    """Two-pass decoding: a first-pass decoder's n-best, re-ranked by language models.

    Args:
        vocabulary: output vocabulary.
        first_pass: a registered decoder name (``"native"``, ``"pyctcdecode"``...) or a
            decoder object with the same vocabulary.
        first_pass_options: options for the first pass when it is built by name (e.g.
            ``{"beam_width": 64}``); ``frame_rate`` and ``input_type`` are passed on
            unless given there.
        lms: one LM or a list: paths to ARPA / KenLM binary files (loaded as
            :class:`~ctcdecode_kit.lm.KenLM`, once per process and shared with the
            ``pyctcdecode`` backend: see :func:`ctcdecode_kit.lm.load_lm`) or
            :class:`~ctcdecode_kit.lm.LanguageModel` objects.
        alphas: one weight per LM (a single number for one LM; default 0.5 each).
        beta: bonus per word.
        candidates: n-best size asked of the first pass (at least ``nbest``).
        base: ``"score"`` (start from the first pass's total, the formula above) or
            ``"am"`` (start from its acoustic score alone).
        lm_case: the case LMs get their words in: ``"auto"`` (from each LM's ``case`` /
            ``unigrams``, as the pyctcdecode backend does), ``"lower"``, ``"upper"``, None.
        frame_rate, input_type, nbest: see :class:`~ctcdecode_kit.decoder.DecoderBase`.
    """

    name = "rescore"

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        first_pass: str | Decoder = "native",
        first_pass_options: dict[str, Any] | None = None,
        lms: Any = None,
        alphas: float | Sequence[float] | None = None,
        beta: float = 0.0,
        candidates: int = 16,
        base: str = "score",
        lm_case: str | None = "auto",
        frame_rate: float | None = None,
        input_type: str = "auto",
        nbest: int = 1,
    ) -> None:
        super().__init__(vocabulary, frame_rate=frame_rate, input_type=input_type, nbest=nbest)  # type: ignore[arg-type]
        from ctcdecode_kit.lm.casing import check_case
        from ctcdecode_kit.lm.loading import load_language_model, resolve_lm_case
        from ctcdecode_kit.lm.fitting import check_vocabulary_fits

        self.candidates = check_positive_int("candidates", candidates, maximum=MAX_CANDIDATES)
        self.beta = check_finite_number("beta", beta)
        if base not in ("am", "score"):
            raise InputError(f"base must be 'am' or 'score', got {base!r}")
        self.base = base
        check_case(lm_case, "lm_case")
        self._owns_first_pass = isinstance(first_pass, str)
        self.first_pass = self._build_first_pass(first_pass, first_pass_options, frame_rate, input_type)
        sources = _as_list(lms)
        self.lms = [load_language_model(lm, case=lm_case) for lm in sources]
        self.alphas = self._check_alphas(alphas, len(self.lms))
        self.cases = [resolve_lm_case(lm, lm_case) for lm in self.lms]
        for lm, case in zip(self.lms, self.cases):
            check_vocabulary_fits(lm, vocabulary, case)
        # with_options shares the built first pass and the loaded LMs
        self._config: dict[str, Any] = {
            "first_pass": self.first_pass,
            "first_pass_options": None,
            "lms": list(self.lms),
            "alphas": list(self.alphas),
            "beta": beta,
            "candidates": candidates,
            "base": base,
            "lm_case": lm_case,
            "frame_rate": frame_rate,
            "input_type": input_type,
            "nbest": nbest,
        }

    def _build_first_pass(
        self, first_pass: Any, options: dict[str, Any] | None, frame_rate: float | None, input_type: str
    ) -> Decoder:
        if isinstance(first_pass, str):
            if first_pass == self.name:
                raise InputError("first_pass cannot be 'rescore' itself; pick e.g. 'native'")
            if options is not None and not isinstance(options, dict):
                raise InputError(f"first_pass_options must be a dict of options, got {type(options).__name__}")
            opts = dict(options or {})
            if frame_rate is not None:
                opts.setdefault("frame_rate", frame_rate)
            opts.setdefault("input_type", input_type)
            return build_decoder(first_pass, self.vocabulary, **opts)
        if options:
            raise InputError("first_pass_options only apply when first_pass is a decoder name, not an object")
        if not callable(getattr(first_pass, "decode", None)):
            raise InputError(
                f"first_pass must be a decoder name or a Decoder object, got {type(first_pass).__name__}"
            )
        other = getattr(first_pass, "vocabulary", None)
        if other is not None and other != self.vocabulary:
            raise InputError("first_pass decoder was built for a different vocabulary than the rescore decoder")
        return first_pass

    @staticmethod
    def _check_alphas(alphas: Any, count: int) -> list[float]:
        if alphas is None:
            return [0.5] * count
        values = _as_list(alphas)
        if len(values) != count:
            raise InputError(f"alphas must give one weight per LM: {count} LM(s) but {len(values)} alpha(s)")
        return [check_finite_number(f"alphas[{i}]", a) for i, a in enumerate(values)]

    def decode(self, logits: Any, lengths: Any = None, *, nbest: int | None = None) -> list[list[Hypothesis]]:
        """Decode a batch: first-pass n-best, re-ranked; see :class:`~ctcdecode_kit.Decoder`."""
        count = self.nbest if nbest is None else check_positive_int("nbest", nbest)
        first = self.first_pass.decode(logits, lengths, nbest=max(self.candidates, count))
        ranked = rescore_hypotheses(first, self.lms, self.alphas, self.beta, cases=self.cases, base=self.base)
        return [hyps[:count] for hyps in ranked]

    def with_options(self, **changes: Any) -> RescoreDecoder:
        """A new rescore decoder with some options changed; this one is left untouched.

        The loaded LMs and the first-pass decoder are shared. When the first pass was
        built by name, ``first_pass_options`` (and ``frame_rate`` / ``input_type``) change
        those options of it through its own ``with_options``, so its LM is shared too.

        Example:
            >>> from ctcdecode_kit import build_decoder
            >>> d = build_decoder("rescore", ["<pad>", "|", "A"], first_pass="greedy", beta=0.5)
            >>> d.with_options(beta=2.0).beta, d.beta
            (2.0, 0.5)
        """
        changes = dict(changes)
        derive_first_pass = "first_pass" not in changes and self._owns_first_pass and any(
            key in changes for key in ("first_pass_options", "frame_rate", "input_type")
        )
        if derive_first_pass:
            options = changes.get("first_pass_options") or {}
            if not isinstance(options, dict):
                raise InputError(f"first_pass_options must be a dict of options, got {type(options).__name__}")
            options = dict(options)
            for key in ("frame_rate", "input_type"):
                if key in changes:
                    options.setdefault(key, changes[key])
            changes["first_pass"] = self.first_pass.with_options(**options)  # type: ignore[attr-defined]
            changes["first_pass_options"] = None
        derived = cast(RescoreDecoder, super().with_options(**changes))
        if derive_first_pass:
            derived._owns_first_pass = True  # it derived that first pass, so it closes it
        return derived

    def close(self) -> None:
        if self._owns_first_pass:
            closer = getattr(self.first_pass, "close", None)
            if callable(closer):
                closer()

    def __repr__(self) -> str:
        return (
            f"RescoreDecoder(first_pass={type(self.first_pass).__name__}, lms={len(self.lms)}, "
            f"alphas={self.alphas}, beta={self.beta}, candidates={self.candidates})"
        )


register_decoder("rescore", RescoreDecoder, overwrite=True)
