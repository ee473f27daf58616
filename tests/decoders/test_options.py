"""Every option accepts its documented default passed explicitly, and None where pyctcdecode does (issue 11, item 12).

For each built-in backend, each keyword option's default is read from the constructor's
signature and passed explicitly: the decoder must build and decode exactly as it does
with no options at all. ``None`` is also accepted wherever pyctcdecode's own API accepts
it (``hotwords``, the LM).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import pytest

from ctcdecode_kit import Vocabulary, build_decoder
from ctcdecode_kit.decoder import _resolve_factory
from tests.conftest import backend_param, backend_params

BACKENDS = ("greedy", "pyctcdecode", "native", "rescore")
VOCAB = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
LOG_PROBS = np.log(
    np.array(
        [[.1, .1, .7, .1], [.6, .1, .2, .1], [.1, .6, .2, .1], [.1, .1, .2, .6], [.5, .1, .1, .3], [.1, .1, .4, .4]],
        np.float32,
    )
)


def documented_defaults(name: str) -> dict[str, Any]:
    """Every keyword option of backend ``name`` with the default its signature documents."""
    signature = inspect.signature(_resolve_factory(name))
    return {
        p.name: p.default
        for p in list(signature.parameters.values())[1:]
        if p.kind is p.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
    }


def _decode(name: str, **options: Any) -> list:
    decoder = build_decoder(name, VOCAB, **options)
    try:
        return decoder.decode(LOG_PROBS, nbest=3)
    finally:
        decoder.close()


@functools.cache
def without_options(name: str) -> list:
    """What backend ``name`` decodes with no options (computed once per backend)."""
    return _decode(name)


@pytest.mark.parametrize("name", backend_params(*BACKENDS))
def test_every_default_passed_explicitly_at_once_decodes_as_no_options(name):
    defaults = documented_defaults(name)
    assert defaults, f"{name} documents no keyword options"
    assert _decode(name, **defaults) == without_options(name)


@pytest.mark.parametrize(
    ("name", "option"), [backend_param(name, option) for name in BACKENDS for option in documented_defaults(name)]
)
def test_each_default_passed_explicitly_decodes_as_no_options(name, option):
    assert _decode(name, **{option: documented_defaults(name)[option]}) == without_options(name)


@pytest.mark.parametrize("name", backend_params("pyctcdecode", "native"))
@pytest.mark.parametrize("option", ["hotwords", "lm"])
def test_none_is_accepted_where_pyctcdecode_accepts_none(name, option):
    assert _decode(name, **{option: None}) == without_options(name)


@pytest.mark.parametrize("first_pass", backend_params("pyctcdecode", "native"))
def test_rescore_passes_none_options_on_to_its_first_pass(first_pass):
    plain = _decode("rescore", first_pass=first_pass)
    given = _decode("rescore", first_pass=first_pass, first_pass_options={"hotwords": None, "lm": None},
                    lms=None, alphas=None)
    assert given == plain
