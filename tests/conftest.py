"""Shared fixtures. Real data lives in ../shared/data beside the checkout (read-only)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_path(relative: str) -> Path:
    """Path of a file under ../shared/data, or skip the test with a clear message."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared test data {relative!r} not found at {path} (expected ../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session")
def shared() -> "type[SharedData]":
    return SharedData


class SharedData:
    """Accessors for ../shared/data; each skips the test when its file is missing."""

    path = staticmethod(shared_path)

    @staticmethod
    def wav2vec2_logits():
        import numpy as np

        return np.load(shared_path("wav2vec2-logits/121-121726-0000.npy"))

    @staticmethod
    def wav2vec2_vocab():
        from ctcdecode_kit import Vocabulary

        return Vocabulary.from_file(shared_path("wav2vec2-logits/vocab.json"))

    @staticmethod
    def wav2vec2_reference() -> str:
        line = shared_path("wav2vec2-logits/trans.txt").read_text(encoding="utf-8").splitlines()[0]
        return line.split("\t", 1)[1]

    @staticmethod
    def libri_logits():
        """pyctcdecode's sample: log-probs (371, 29), labels ' ', a..z, "'", blank LAST."""
        import json

        import numpy as np

        return np.array(json.loads(shared_path("pyctcdecode/libri_logits.json").read_text()), dtype=np.float32)

    LIBRI_LABELS = [" "] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["'", ""]
    LIBRI_TEXT = (
        "i have a good deal of will you remember and what i have set my mind upon no doubt i shall some day achieve"
    )
