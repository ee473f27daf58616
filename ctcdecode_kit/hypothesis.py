"""Result types shared by every decoder: :class:`Word` and :class:`Hypothesis`.

Scores are natural logarithms. ``am_score`` is the acoustic (CTC) log-probability the
decoder assigned to the hypothesis, ``lm_score`` the *unweighted* language-model
log-probability of its words (0.0 without an LM), and ``score`` the total the decoder
ranked by (for LM decoders ``am_score + alpha * lm_score + beta * len(words)``, plus
hotword bonuses). Keeping them apart lets a rescorer recombine them.

Example:
    >>> from ctcdecode_kit import Hypothesis, Word
    >>> h = Hypothesis(text="HI THERE", tokens=(11, 10, 4, 6, 11, 5, 13, 5),
    ...                score=-1.5, am_score=-1.5, lm_score=0.0,
    ...                words=(Word("HI", 3, 5), Word("THERE", 7, 12)))
    >>> [w.text for w in h.words], h.words[0].start_time
    (['HI', 'THERE'], None)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = ["Hypothesis", "Word"]


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a hypothesis with its frame span.

    ``start_frame`` is the first frame of the word's first token and ``end_frame`` is
    one past the last frame of its last token (a half-open interval). ``start_time``
    and ``end_time`` are in seconds when the decoder knew the frame rate, else None.
    """

    text: str
    start_frame: int
    end_frame: int
    start_time: float | None = None
    end_time: float | None = None

    def with_frame_rate(self, frame_rate: float | None) -> Word:
        """Return a copy with times in seconds filled in from ``frame_rate`` (frames/s)."""
        if frame_rate is None:
            return self
        return replace(
            self,
            start_time=round(self.start_frame / frame_rate, 4),
            end_time=round(self.end_frame / frame_rate, 4),
        )


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One decoded hypothesis of one utterance.

    Attributes:
        text: words joined by single spaces; special tokens never appear.
        tokens: the token ids of the hypothesis after CTC collapsing (blanks removed),
            including word delimiters.
        score: the total score the decoder ranked by (natural log).
        am_score: acoustic CTC log-probability of the path or prefix.
        lm_score: unweighted LM log-probability of the words (0.0 without an LM).
        words: each word with its frame span (and seconds when the frame rate is known).
    """

    text: str
    tokens: tuple[int, ...]
    score: float
    am_score: float
    lm_score: float = 0.0
    words: tuple[Word, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """A JSON-ready dictionary of every field.

        Example:
            >>> Hypothesis("A", (7,), -0.5, -0.5).to_dict()["text"]
            'A'
        """
        return {
            "text": self.text,
            "tokens": list(self.tokens),
            "score": self.score,
            "am_score": self.am_score,
            "lm_score": self.lm_score,
            "words": [
                {
                    "text": w.text,
                    "start_frame": w.start_frame,
                    "end_frame": w.end_frame,
                    "start_time": w.start_time,
                    "end_time": w.end_time,
                }
                for w in self.words
            ],
        }
