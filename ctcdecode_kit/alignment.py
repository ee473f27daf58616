"""CTC forced alignment: the most probable path that spells given tokens or a given text.

A beam search that merges hypotheses by text (pyctcdecode does) cannot say which token ids
it emitted, nor which frames a word's tokens really occupy. :func:`align_text` answers
both from the logits: among every way the vocabulary can spell ``text`` (a SentencePiece
vocabulary often has several), it finds the single most probable CTC path (Viterbi) and
returns that path's collapsed tokens with each token's half-open frame span.
:func:`align_tokens` does the same for a fixed token sequence. The search runs in the
compiled module, linear in frames x graph size.

The frame convention is the kit's for every backend: a word spans ``[start, end)`` over the
frames of its tokens on the hypothesis' best alignment (repeats of a token included,
blanks around it not), which is what greedy decoding reports for its own path.

Example:
    >>> import numpy as np
    >>> from ctcdecode_kit import Vocabulary
    >>> from ctcdecode_kit.alignment import align_text
    >>> vocab = Vocabulary.from_labels(["<pad>", "\\u2581a", "bc", "\\u2581ab", "c"])
    >>> logits = np.log(np.array([[.1, .6, .1, .1, .1], [.1, .1, .6, .1, .1], [.7, .1, .1, .05, .05]]))
    >>> a = align_text(logits, "abc", vocab)
    >>> a.tokens, a.starts, a.ends, vocab.text(a.tokens)
    ((1, 2), (0, 1), (1, 2), 'abc')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError, VocabularyError, require_native
from .vocabulary import Vocabulary

__all__ = ["Alignment", "align_text", "align_tokens"]

_PREFIX_MARK = "\u2581"
MAX_CELLS = 1 << 27
"""Frames x graph states above which a text is aligned in pieces (the traceback needs 2 bytes a cell)."""


@dataclass(frozen=True, slots=True)
class Alignment:
    """The best CTC path's collapsed tokens and their half-open frame spans.

    Attributes:
        tokens: token ids in order (blanks removed, word delimiters included).
        starts: first frame of each token.
        ends: one past the last frame of each token (repeats included).
        score: natural-log probability of the path (per-frame log-softmax, clipped at 1e-15).
    """

    tokens: tuple[int, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    score: float


class _Graph:
    """Token nodes with successor lists, built in order (successors always come later)."""

    def __init__(self) -> None:
        self.token: list[int] = []
        self.succ: list[list[int]] = []
        self.start: list[int] = []
        self.final: list[int] = []

    def add(self, token: int, *, repeatable: bool = False) -> int:
        """A new node; a ``repeatable`` one may be emitted again after a blank (a run of delimiters)."""
        self.token.append(token)
        self.succ.append([])
        k = len(self.token) - 1
        if repeatable:
            self.succ[k].append(k)
        return k

    def link(self, sources: Sequence[int], targets: Sequence[int]) -> None:
        for a in sources:
            self.succ[a].extend(targets)

    def arrays(self) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
        begin, flat = [0], []
        for successors in self.succ:
            flat.extend(successors)
            begin.append(len(flat))
        starts = set(self.start)
        finals = set(self.final)
        n = len(self.token)
        return (self.token, begin, flat, [int(k in starts) for k in range(n)], [int(k in finals) for k in range(n)])


def _native() -> Any:
    return require_native("forced alignment")


def _spellings(word: str, lookup: dict[str, int], max_len: int, text: str) -> list[tuple[int, int, int]]:
    """Every (start, end, token id) piece that lies on some complete spelling of ``word``."""
    n = len(word)
    pieces = [
        (i, i + size, lookup[word[i : i + size]])
        for i in range(n)
        for size in range(1, min(max_len, n - i) + 1)
        if word[i : i + size] in lookup
    ]
    forward = {0}
    for i, j, _ in sorted(pieces):
        if i in forward:
            forward.add(j)
    backward = {n}
    for i, j, _ in sorted(pieces, key=lambda p: -p[0]):
        if j in backward:
            backward.add(i)
    if n not in forward:
        stuck = max(p for p in forward if p < n)
        raise VocabularyError(f"cannot spell {word[stuck]!r} (in {text!r}) with this vocabulary's tokens")
    return [(i, j, t) for i, j, t in pieces if i in forward and j in backward]


def _text_graph(text: str, vocabulary: Vocabulary, lead: str = "optional", trail: str = "optional") -> _Graph:
    """The graph of every spelling of ``text``.

    ``lead`` / ``trail`` say whether a word delimiter before the first / after the last
    word is "optional", "required" or "none" (vocabularies without a delimiter ignore them).
    """
    delimiter = vocabulary.word_delimiter
    skip = vocabulary.special | {vocabulary.blank} | ({delimiter} if delimiter is not None else set())
    lookup = {t: i for i, t in enumerate(vocabulary.tokens) if i not in skip and t}
    max_len = max((len(t) for t in lookup), default=1)
    # SentencePiece's lone "▁" spells nothing (an empty word start): one may stand before
    # any word and at the end
    lone = lookup.get(_PREFIX_MARK) if vocabulary.word_prefix else None
    graph = _Graph()
    words = text.split()
    previous: list[int] = []  # the nodes the next word follows
    if delimiter is not None and lead != "none":
        first = graph.add(delimiter, repeatable=True)
        graph.start.append(first)
        previous = [first]
    for n, word in enumerate(words):
        spelled = _PREFIX_MARK + word if vocabulary.word_prefix else word
        # a word-prefix vocabulary also starts a word with a piece without "▁" at the very
        # beginning of the text, or after a lone "▁" (Vocabulary.words reads both as a word start)
        bare: list[tuple[int, int, int]] = []
        if vocabulary.word_prefix and (n == 0 or lone is not None):
            try:
                bare = [(i, j, graph.add(t)) for i, j, t in _spellings(word, lookup, max_len, text)]
            except VocabularyError:
                bare = []
        try:
            nodes = [(i, j, graph.add(t)) for i, j, t in _spellings(spelled, lookup, max_len, text)]
        except VocabularyError:
            if not bare:
                raise
            nodes = []
        firsts = [k for i, _, k in nodes if i == 0]
        bare_firsts = [k for i, _, k in bare if i == 0]
        for group in (nodes, bare):
            for _, j, k in group:
                graph.link([k], [k2 for i2, _, k2 in group if i2 == j])
        if lone is not None:
            empty_start = graph.add(lone, repeatable=True)
            graph.link(previous, [empty_start])
            graph.link([empty_start], firsts + bare_firsts)
            if n == 0:
                graph.start.append(empty_start)
        if n == 0:
            graph.start.extend(bare_firsts)
        if n == 0:
            if delimiter is None or lead != "required":
                graph.start.extend(firsts)
            graph.link(previous, firsts)
        elif delimiter is not None:
            between = graph.add(delimiter, repeatable=True)
            graph.link(previous, [between])
            graph.link([between], firsts)
        else:
            graph.link(previous, firsts)
        previous = [k for _, j, k in nodes if j == len(spelled)] + [k for _, j, k in bare if j == len(word)]
    if lone is not None:
        empty_end = graph.add(lone, repeatable=True)
        graph.link(previous, [empty_end])
        graph.final.append(empty_end)
        if not words:
            graph.start.append(empty_end)
    if not words:
        graph.final.extend(previous)  # a lone delimiter, or nothing at all
        return graph
    if delimiter is not None and trail != "none":
        last = graph.add(delimiter, repeatable=True)
        graph.link(previous, [last])
        graph.final.append(last)
    if delimiter is None or trail != "required":
        graph.final.extend(previous)
    return graph


def _run(log_probs: np.ndarray, vocabulary: Vocabulary, graph: _Graph, allow_empty: bool, what: str) -> Alignment:
    token, begin, succ, is_start, is_final = graph.arrays()
    found = _native().align(log_probs, vocabulary.blank, token, begin, succ, is_start, is_final, allow_empty)
    if found is None:
        raise InputError(f"{what} cannot be aligned to {log_probs.shape[0]} frames: it needs more frames than that")
    nodes, starts, ends, score = found
    return Alignment(tuple(token[k] for k in nodes), tuple(starts), tuple(ends), float(score))


def _as_log_probs(log_probs: Any, vocabulary: Vocabulary) -> np.ndarray:
    if hasattr(log_probs, "detach"):  # a torch tensor, on any device
        log_probs = log_probs.detach().to("cpu").float().numpy()
    array = np.ascontiguousarray(np.asarray(log_probs, dtype=np.float32))
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2 or array.shape[1] != len(vocabulary):
        raise InputError(
            f"log_probs must be [T, V] with V = {len(vocabulary)} (the vocabulary size), got shape {tuple(array.shape)}"
        )
    return array


def align_text(
    log_probs: Any, text: str, vocabulary: Vocabulary, *, word_spans: Sequence[tuple[int, int]] | None = None
) -> Alignment:
    """The most probable CTC path spelling ``text`` (any tokenisation), with its token spans.

    ``log_probs`` are one utterance's logits or log-probs ``[T, V]``. Words are separated
    by the vocabulary's delimiter (optional at both ends) or start with ``▁`` pieces.
    ``vocabulary.text(result.tokens) == " ".join(text.split())``.

    ``word_spans`` (optional, one ``(start, end)`` per word, e.g. a beam search's own
    approximate frames) only matter for very long inputs: when frames x graph size exceeds
    :data:`MAX_CELLS`, the text is aligned in groups of words, each within the frames
    between its neighbours' approximate spans, instead of in one piece.

    Example:
        >>> import numpy as np
        >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
        >>> logits = np.log(np.array([[.7, .1, .1, .1], [.1, .1, .7, .1], [.1, .7, .1, .1], [.1, .1, .1, .7]]))
        >>> align_text(logits, "A B", vocab).tokens
        (2, 1, 3)
    """
    array = _as_log_probs(log_probs, vocabulary)
    words = text.split()
    graph = _text_graph(text, vocabulary)
    cells = array.shape[0] * (1 + 2 * len(graph.token))
    if cells <= MAX_CELLS or word_spans is None or len(word_spans) != len(words) or len(words) < 2:
        return _run(array, vocabulary, graph, not words, f"text {text!r}")
    return _align_in_groups(array, words, list(word_spans), vocabulary, cells)


def _align_in_groups(
    array: np.ndarray, words: list[str], spans: list[tuple[int, int]], vocabulary: Vocabulary, cells: int
) -> Alignment:
    """Align a long text group by group, cutting the frames where a group's last word ends.

    The frames between two groups (usually the delimiter's) go to the later group, which
    must start with the delimiter; a group is aligned within its own frames only.
    """
    groups = max(2, -(-cells // (MAX_CELLS // 4)))
    size = -(-len(words) // groups)
    bounds = list(range(0, len(words), size)) + [len(words)]
    cuts = [0]
    for b in bounds[1:-1]:
        left_end, right_start = int(spans[b - 1][1]), int(spans[b][0])
        cuts.append(max(cuts[-1], min(array.shape[0], left_end, right_start)))
    cuts.append(array.shape[0])
    tokens: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    score = 0.0
    for g in range(len(bounds) - 1):
        part = " ".join(words[bounds[g] : bounds[g + 1]])
        lead = "optional" if g == 0 else "required"
        trail = "optional" if g == len(bounds) - 2 else "none"
        graph = _text_graph(part, vocabulary, lead=lead, trail=trail)
        piece = _run(np.ascontiguousarray(array[cuts[g] : cuts[g + 1]]), vocabulary, graph, False, f"words {part[:60]!r}")
        tokens.extend(piece.tokens)
        starts.extend(s + cuts[g] for s in piece.starts)
        ends.extend(e + cuts[g] for e in piece.ends)
        score += piece.score
    return Alignment(tuple(tokens), tuple(starts), tuple(ends), score)


def align_tokens(log_probs: Any, tokens: Sequence[int], vocabulary: Vocabulary) -> Alignment:
    """The best CTC path of a fixed collapsed token sequence, with each token's frame span.

    Example:
        >>> import numpy as np
        >>> vocab = Vocabulary.from_labels(["<pad>", "|", "A"])
        >>> logits = np.log(np.array([[.1, .1, .8], [.1, .1, .8], [.8, .1, .1], [.1, .1, .8]]))
        >>> a = align_tokens(logits, [2, 2], vocab)
        >>> a.starts, a.ends
        ((0, 3), (2, 4))
    """
    array = _as_log_probs(log_probs, vocabulary)
    graph = _Graph()
    previous: list[int] = []
    for t in tokens:
        if not 0 <= int(t) < len(vocabulary) or int(t) == vocabulary.blank:
            raise InputError(f"token id {t!r} is not a non-blank id of this {len(vocabulary)}-token vocabulary")
        k = graph.add(int(t))
        if previous:
            graph.link(previous, [k])
        else:
            graph.start.append(k)
        previous = [k]
    graph.final.extend(previous)
    return _run(array, vocabulary, graph, not tokens, f"tokens {list(tokens)[:20]}")
