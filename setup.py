"""Build the native extension ``ctcdecode_kit._native`` (C++17, pybind11).

Everything else is configured in pyproject.toml; ``pip install .`` / ``pip install -e .``
compile ``ctcdecode_kit/csrc`` with the system C++ compiler. No ``-march=native``: the
wheel must run on any x86-64 / aarch64 machine of the same platform.

Beside the compiled module the build writes ``_native.sources.sha256``, the digest of the C++
sources it was compiled from (computed by ``ctcdecode_kit/_source_tree.py``). A checkout whose
source folder shadows an installed copy (Python run from the repository root) uses that copy's
compiled module only when the digest matches its own sources.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

ROOT = Path(__file__).resolve().parent
CSRC = ROOT / "ctcdecode_kit" / "csrc"


def _source_tree_module():
    """ctcdecode_kit/_source_tree.py loaded by path (stdlib only; the package's dependencies may be absent)."""
    spec = importlib.util.spec_from_file_location("ctcdecode_kit_build_source_tree", ROOT / "ctcdecode_kit" / "_source_tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildExtWithDigest(build_ext):
    """pybind11's build_ext, plus the sources digest written next to each built ``_native``."""

    def run(self):
        super().run()  # builds in build_lib, then copies in place for --inplace / editable installs
        source_tree = _source_tree_module()
        digest = source_tree.native_sources_digest(CSRC)
        if digest is None:
            return
        for ext in self.extensions:
            built = {Path(self.build_lib) / self.get_ext_filename(self.get_ext_fullname(ext.name))}
            if self.inplace:
                built.add(Path(self.get_ext_fullpath(ext.name)))
            for path in built:
                if path.is_file():
                    (path.parent / source_tree.NATIVE_DIGEST_FILE).write_text(digest + "\n", encoding="utf-8")


ext_modules = [
    Pybind11Extension(
        "ctcdecode_kit._native",
        sources=["ctcdecode_kit/csrc/bindings.cpp"],
        include_dirs=["ctcdecode_kit/csrc"],
        depends=sorted(path.relative_to(ROOT).as_posix() for path in CSRC.glob("*.hpp")),
        cxx_std=17,
        extra_compile_args=["-O3"],
    ),
]

setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExtWithDigest})
