"""Shared fixtures and helpers. Real data lives in ../shared/data beside the checkout (read-only).

Missing things (../shared/data, the compiled ``ctcdecode_kit._native``, an extra such as
``pyctcdecode`` or ``kenlm``) skip a test on a developer's machine, with a message that says
what is missing, but FAIL it in CI (environment variable ``CI`` set to ``true``/``1``/``yes``):
a failed compile or a lost data folder must not turn into a green run of skips. Test modules
use :func:`require_module` instead of ``pytest.importorskip``, :func:`shared_path` for data and
:func:`skip_or_fail` for anything else that is missing::

    from tests.conftest import require_module
    native = require_module("ctcdecode_kit.decoders.native")
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

from ctcdecode_kit.lm import LanguageModelBase

_TEST_CACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Derived caches a test run writes (LM binaries of read-only ARPAs) go to a temporary
    folder, never to the user's ~/.cache/ctcdecode_kit; subprocesses inherit it."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="ctcdecode-kit-test-cache-")
    _TEST_CACHE.append(folder)
    os.environ["XDG_CACHE_HOME"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    for folder in _TEST_CACHE:
        shutil.rmtree(folder, ignore_errors=True)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CI_VALUES = ("1", "true", "yes")


def in_ci() -> bool:
    """True when the environment variable ``CI`` says this is a CI run (``true``, ``1`` or ``yes``)."""
    return os.environ.get("CI", "").strip().lower() in CI_VALUES


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the current test (or module) because ``reason``; under ``CI=true`` fail it instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing requirement fails the run instead of skipping)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str, *, install: str = "pip install -e '.[test]'") -> ModuleType:
    """Import ``name``; when it cannot be imported, skip (or under ``CI=true`` fail) with the reason.

    Use it at module level or inside a test in place of ``pytest.importorskip``, for the kit's
    own compiled parts and for its extras alike. ``install`` is the command the message suggests.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        skip_or_fail(f"cannot import {name!r} ({exc}); install it with: {install}")


EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "pyctcdecode": ("pyctcdecode",),
    "kenlm": ("kenlm",),
    "ray": ("ray",),
    "onnx": ("onnxruntime",),
}
"""What each optional extra must make importable, for tests marked ``@pytest.mark.extra(name)``."""


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``@pytest.mark.extra("kenlm")`` needs that extra: skipped when it is missing,
    FAILED under ``CI=true``. The numpy-2 core run deselects every such test with
    ``-m "not extra"``, so there a marked test never runs at all."""
    for mark in item.iter_markers("extra"):
        if not mark.args:
            pytest.fail(f"{item.nodeid}: @pytest.mark.extra needs the extra's name, e.g. extra('kenlm')", pytrace=False)
        for extra in mark.args:
            if extra not in EXTRA_MODULES:
                pytest.fail(f"{item.nodeid}: unknown extra {extra!r}; known: {', '.join(EXTRA_MODULES)}", pytrace=False)
            for module in EXTRA_MODULES[extra]:
                require_module(module, install=f"pip install 'ctcdecode-kit[{extra}]'")


def shared_path(relative: str) -> Path:
    """Path of a file under ../shared/data; skip (under ``CI=true`` fail) the test when it is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        skip_or_fail(f"shared test data {relative!r} not found at {path} (expected ../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session")
def shared() -> "type[SharedData]":
    return SharedData


class SharedData:
    """Accessors for ../shared/data; each skips (under ``CI=true`` fails) the test when its file is missing."""

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


BACKEND_EXTRAS: dict[str, str] = {"pyctcdecode": "pyctcdecode"}
"""Built-in decoder backends that need an optional extra: backend name -> extra."""


def backend_param(backend: str, *more: object, id: str | None = None) -> object:
    """``pytest.param(backend, *more)``, marked ``extra(...)`` when ``backend`` needs an extra.

    Parametrize a test over backends with it so that the numpy-2 core run (``-m "not extra"``)
    deselects only the cases whose backend is not installed there::

        @pytest.mark.parametrize("name", backend_params("greedy", "native", "pyctcdecode"))
    """
    marks = [pytest.mark.extra(BACKEND_EXTRAS[backend])] if backend in BACKEND_EXTRAS else []
    return pytest.param(backend, *more, marks=marks, id=id)


def backend_params(*backends: str) -> list[object]:
    """:func:`backend_param` of each name in ``backends``."""
    return [backend_param(backend) for backend in backends]


class FlatLM(LanguageModelBase):
    """A one-state test LM: -1 per word, 0 for the end. Tests subclass it to add what they check."""

    order = 1

    def begin(self):
        return ()

    def score(self, state, word):
        return -1.0, ()

    def end(self, state):
        return 0.0


# ---------------------------------------------------------------- tiny CTC models (acoustic tests, CLI)
TINY_SAMPLING_RATE = 16000


def build_tiny_ctc_model(
    folder: Path,
    *,
    architecture: str = "wav2vec2",
    feat_extract_norm: str = "group",
    num_hidden_layers: int = 2,
    do_normalize: bool = True,
    ctc_head: bool = True,
    tokenizer: bool = True,
    seed: int = 0,
) -> Path:
    """Save a randomly initialised tiny ``*ForCTC`` model + ``Wav2Vec2Processor`` in ``folder``.

    The tokenizer uses wav2vec2-base-960h's 32-token map (../shared/data/wav2vec2-logits/vocab.json).
    Same conv geometry as wav2vec2-base (kernels 10,3,3,3,3,2,2, strides 5,2,2,2,2,2,2: 320
    samples per frame, 50 frames/s at 16 kHz, receptive field 400 samples) with 16 channels;
    hidden size 32, positional conv kernel 16 frames, ``num_hidden_layers`` attention layers. ``feat_extract_norm="layer"`` also sets
    the feature extractor's ``return_attention_mask=True``, as real layer-norm models do.
    ``ctc_head=False`` saves the bare encoder (``*Model``); ``tokenizer=False`` omits the tokenizer.
    """
    import json

    import torch
    import transformers as tf

    vocab = json.loads(shared_path("wav2vec2-logits/vocab.json").read_text(encoding="utf-8"))
    classes = {
        "wav2vec2": (tf.Wav2Vec2Config, tf.Wav2Vec2ForCTC, tf.Wav2Vec2Model),
        "hubert": (tf.HubertConfig, tf.HubertForCTC, tf.HubertModel),
    }
    config_cls, ctc_cls, base_cls = classes[architecture]
    config = config_cls(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=2,
        intermediate_size=48,
        conv_dim=(16,) * 7,
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        feat_extract_norm=feat_extract_norm,
        do_stable_layer_norm=feat_extract_norm == "layer",
        pad_token_id=vocab["<pad>"],
        ctc_loss_reduction="mean",
    )
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = (ctc_cls if ctc_head else base_cls)(config)
    model.save_pretrained(folder)
    extractor = tf.Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=TINY_SAMPLING_RATE,
        padding_value=0.0,
        do_normalize=do_normalize,
        return_attention_mask=feat_extract_norm == "layer",
    )
    if tokenizer:
        vocab_file = folder / "tiny_vocab_source.json"
        vocab_file.write_text(json.dumps(vocab), encoding="utf-8")
        tok = tf.Wav2Vec2CTCTokenizer(str(vocab_file), word_delimiter_token="|")
        tf.Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tok).save_pretrained(folder)
        vocab_file.unlink()
    else:
        extractor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def make_tiny_model(tmp_path_factory):
    """Factory ``make_tiny_model(**options) -> Path`` of a saved tiny CTC model (cached per options).

    Options are those of :func:`build_tiny_ctc_model` (architecture="wav2vec2"|"hubert",
    feat_extract_norm="group"|"layer", num_hidden_layers, do_normalize, ctc_head, tokenizer).
    """
    cache: dict[tuple, Path] = {}

    def make(**options) -> Path:
        key = tuple(sorted(options.items()))
        if key not in cache:
            name = "tiny-" + "-".join(f"{k}={v}" for k, v in key) if key else "tiny-default"
            cache[key] = build_tiny_ctc_model(tmp_path_factory.mktemp(name), **options)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def tiny_model_dir(make_tiny_model) -> Path:
    """A saved tiny Wav2Vec2ForCTC like wav2vec2-base-960h (group norm, no attention mask)."""
    return make_tiny_model()


def upper_arpa(src: Path, dst: Path) -> Path:
    """``src`` (an ARPA file) with its words in upper case (as OpenSLR's LibriSpeech LMs are), markers kept."""
    out = []
    for line in src.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and not line.startswith("\\"):
            parts[1] = " ".join(w if w in ("<s>", "</s>", "<unk>") else w.upper() for w in parts[1].split(" "))
        out.append("\t".join(parts))
    dst.write_text("\n".join(out) + "\n", encoding="utf-8")
    return dst
