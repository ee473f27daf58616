"""A Hugging Face causal LM (GPT-2 style) as a :class:`~ctcdecode_kit.lm.LanguageModel`, for rescoring.

:class:`CausalLM` scores whole sentences: ``log P(<bos> w1 ... wk <eos>)`` summed over
the sentence's tokens, with the tokenizer's BOS (or EOS, as GPT-2 uses) as context and
EOS as the end of sentence. Its states are the tuple of words so far, ``score()``
returns 0.0 and ``end()`` returns the whole-sentence log-probability, so
``score_sentence`` is exact. :meth:`CausalLM.score_sentences` scores a list of
sentences in padded batches (on the GPU when there is one): the ``"rescore"`` backend
uses it.

Cost in beam search (``"pyctcdecode"`` backend, ``lm=CausalLM(...)``): the model
does nothing while words are being added and runs once per *final* beam (up to
``beam_width`` forward passes per utterance, cached by text): it then only re-ranks the
beams the acoustic search kept, like rescoring but slower. Prefer the ``"rescore"``
backend, which batches.

Example:
    >>> lm = CausalLM("gpt2", case="lower")                  # doctest: +SKIP
    >>> lm.score_sentences(["THE CAT SAT", "CAT THE SAT"])   # doctest: +SKIP
    [-21.3..., -30.1...]
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from ctcdecode_kit.errors import LanguageModelError, require

from .casing import case_mapper, check_case
from .protocol import UNBOUNDED_ORDER, LanguageModelBase

__all__ = ["CausalLM"]

_CACHE_SIZE = 4096


class CausalLM(LanguageModelBase):
    """Sentence log-probabilities from ``transformers.AutoModelForCausalLM``.

    Args:
        name_or_dir: a hub model id (downloaded once by transformers) or a folder
            written by ``save_pretrained`` holding the model and its tokenizer.
        device: ``"cuda"``, ``"cpu"``, a ``torch.device``... (None: CUDA when available).
        batch_size: sentences per forward pass in :meth:`score_sentences`.
        case: map words to ``"lower"`` / ``"upper"`` before tokenising (wav2vec2 text is
            UPPERCASE; GPT-2 models expect normal text: use ``"lower"``), or None.
        dtype: torch dtype of the model (None: as saved, float32 on CPU).

    Natural-log scores. ``order`` is :data:`~ctcdecode_kit.lm.UNBOUNDED_ORDER`.
    """

    order = UNBOUNDED_ORDER
    _ctcdecode_kit_trusted = True

    def __init__(
        self,
        name_or_dir: str | Path,
        *,
        device: Any = None,
        batch_size: int = 16,
        case: str | None = None,
        dtype: Any = None,
    ) -> None:
        check_case(case)
        if case == "auto":
            raise LanguageModelError("CausalLM has no word list to detect a case from: pass case='lower', 'upper' or None")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise LanguageModelError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self._torch = require("torch", purpose="CausalLM")
        transformers = require("transformers", purpose="CausalLM")
        self.name = str(name_or_dir)
        self.case = case
        self._map = case_mapper(case)
        self.batch_size = batch_size
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(self.name)
            kwargs = {"dtype": dtype} if dtype is not None else {}
            self.model = transformers.AutoModelForCausalLM.from_pretrained(self.name, **kwargs)
        except (OSError, ValueError, KeyError) as exc:
            raise LanguageModelError(
                f"could not load a causal LM and its tokenizer from {self.name!r}: it must be a hub model id "
                f"or a folder saved with save_pretrained ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            ) from exc
        if device is None:
            device = "cuda" if self._torch.cuda.is_available() else "cpu"
        self.device = self._torch.device(device)
        self.model.to(self.device).eval()
        bos = self.tokenizer.bos_token_id
        eos = self.tokenizer.eos_token_id
        if eos is None:
            raise LanguageModelError(f"the tokenizer of {self.name!r} has no eos_token; it cannot score sentence ends")
        self._bos = bos if bos is not None else eos
        self._eos = eos
        self._pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos
        self._max_tokens = getattr(self.model.config, "n_positions", None) or getattr(
            self.model.config, "max_position_embeddings", None
        )
        self._cache: OrderedDict[tuple[str, ...], float] = OrderedDict()

    # ------------------------------------------------------------------ protocol
    def begin(self) -> Hashable:
        return ()

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        return 0.0, (*state, word)  # type: ignore[misc]

    def end(self, state: Hashable) -> float:
        return self.score_sentence(list(state))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ scoring
    def score_sentence(self, words: Sequence[str] | str) -> float:
        """Natural-log probability of the sentence, BOS context and EOS included."""
        return self.score_sentences([words])[0]

    def score_sentences(self, sentences: Sequence[Sequence[str] | str]) -> list[float]:
        """Natural-log probabilities of many sentences (lists of words or strings), batched."""
        keys = [tuple(s.split() if isinstance(s, str) else s) for s in sentences]
        todo = sorted({k for k in keys if k not in self._cache}, key=len)
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            for key, value in zip(chunk, self._forward(chunk)):
                self._cache[key] = value
                if len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        results = []
        for key in keys:
            if key in self._cache:
                self._cache.move_to_end(key)
                results.append(self._cache[key])
            else:  # evicted within this call (more than _CACHE_SIZE sentences)
                results.append(self._forward([key])[0])
        return results

    def _ids(self, words: tuple[str, ...]) -> list[int]:
        text = " ".join(words)
        if self._map is not None:
            text = self._map(text)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        sequence = [self._bos, *ids, self._eos]
        if self._max_tokens is not None and len(sequence) > self._max_tokens:
            raise LanguageModelError(
                f"the sentence {text[:60]!r}... has {len(sequence)} tokens with BOS/EOS, more than the "
                f"{self._max_tokens} positions of {self.name!r}"
            )
        return sequence

    def _forward(self, batch: list[tuple[str, ...]]) -> list[float]:
        torch = self._torch
        sequences = [self._ids(words) for words in batch]
        width = max(len(s) for s in sequences)
        input_ids = torch.full((len(sequences), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for i, s in enumerate(sequences):
            input_ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[i, : len(s)] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits.float()
            log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
            targets = input_ids[:, 1:]
            picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask[:, 1:]
            totals = picked.double().sum(dim=1).to("cpu").tolist()
        return [float(t) for t in totals]

    def __repr__(self) -> str:
        return f"CausalLM({self.name!r}, device={str(self.device)!r}, case={self.case!r})"
