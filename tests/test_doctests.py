"""The runnable examples in the package's docstrings are true (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import ctcdecode_kit
import ctcdecode_kit.cli
import ctcdecode_kit.lm

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (ctcdecode_kit, ctcdecode_kit.lm, ctcdecode_kit.cli)
MODULES = sorted(
    {package.__name__ for package in PACKAGES}
    | {
        info.name
        for package in PACKAGES
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if not info.name.endswith("__main__") and not info.name.endswith("._native")
    }
)


# modules whose examples need an optional extra: their doctests run in the '[all]' environment
NEEDS_EXTRA = {
    "ctcdecode_kit.decoders.pyctcdecode": "pyctcdecode",
    "ctcdecode_kit.lm.pyctcdecode_adapter": "pyctcdecode",
}


@pytest.mark.parametrize(
    "name", [pytest.param(m, marks=pytest.mark.extra(NEEDS_EXTRA[m])) if m in NEEDS_EXTRA else m for m in MODULES]
)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(REPO)  # examples use ../shared/data relative to the repository
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
