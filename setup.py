"""Build the native extension ``ctcdecode_kit._native`` (C++17, pybind11).

Everything else is configured in pyproject.toml; ``pip install .`` / ``pip install -e .``
compile ``ctcdecode_kit/csrc`` with the system C++ compiler. No ``-march=native``: the
wheel must run on any x86-64 / aarch64 machine of the same platform.
"""

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

ext_modules = [
    Pybind11Extension(
        "ctcdecode_kit._native",
        sources=["ctcdecode_kit/csrc/bindings.cpp"],
        include_dirs=["ctcdecode_kit/csrc"],
        depends=[
            "ctcdecode_kit/csrc/align.hpp",
            "ctcdecode_kit/csrc/beam_search.hpp",
            "ctcdecode_kit/csrc/ngram_lm.hpp",
            "ctcdecode_kit/csrc/pyset_order.hpp",
        ],
        cxx_std=17,
        extra_compile_args=["-O3"],
    ),
]

setup(ext_modules=ext_modules, cmdclass={"build_ext": build_ext})
