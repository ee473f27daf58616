"""Issue 11 item 11: the checkout's source folder shadowing an installed copy (Python run from the repo root).

After a non-editable ``pip install .``, ``python`` started in the repository root imports the
source folder ``ctcdecode_kit/``, which has no ``lm``, ``cli`` or compiled ``_native``. The
kit must still work there, or say what to do. The end-to-end check with a real non-editable
install lives in .ci/run (it needs a second virtual environment); these tests rebuild the same
situation from the files of this checkout in a temporary folder.
"""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ctcdecode_kit.errors import MissingDependencyError

REPO = Path(__file__).resolve().parents[1]
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
NATIVE_DIGEST_FILE = "_native.sources.sha256"  # written by setup.py's build beside the compiled module


@pytest.fixture
def source_tree():
    """ctcdecode_kit._source_tree, imported per test so that the end-to-end tests below run without it."""
    import ctcdecode_kit._source_tree as module

    assert module.NATIVE_DIGEST_FILE == NATIVE_DIGEST_FILE
    return module


def _fake_checkout(root: Path) -> Path:
    """A minimal repository layout: ctcdecode_kit/ (with csrc), lm/, cli/ beside it, pyproject.toml."""
    (root / "ctcdecode_kit" / "csrc").mkdir(parents=True)
    (root / "ctcdecode_kit" / "__init__.py").write_text("")
    (root / "ctcdecode_kit" / "csrc" / "bindings.cpp").write_text("// v1\n")
    for name in ("lm", "cli"):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(f"WHERE = {name!r}\n")
    (root / "pyproject.toml").write_text("")
    return root / "ctcdecode_kit"


def _fake_install(site: Path, digest: str | None) -> Path:
    (site / "ctcdecode_kit").mkdir(parents=True)
    native = site / "ctcdecode_kit" / f"_native{SUFFIX}"
    native.write_bytes(b"\x7fELF not really")
    if digest is not None:
        (site / "ctcdecode_kit" / NATIVE_DIGEST_FILE).write_text(digest + "\n")
    return native


def test_only_a_checkouts_source_folder_counts_as_one(source_tree, tmp_path):
    package = _fake_checkout(tmp_path / "repo")
    assert source_tree.is_source_folder(package)
    installed = tmp_path / "site" / "ctcdecode_kit"
    (installed / "lm").mkdir(parents=True)  # an installed package has lm/ inside it
    assert not source_tree.is_source_folder(installed)


def test_the_finder_maps_lm_and_cli_to_the_folders_beside_the_source_package(source_tree, tmp_path):
    package = _fake_checkout(tmp_path / "repo")
    finder = source_tree.SourceTreeFinder(package, search_path=lambda: [])
    for name in ("lm", "cli"):
        spec = finder.find_spec(f"ctcdecode_kit.{name}", [str(package)])
        assert Path(spec.origin) == tmp_path / "repo" / name / "__init__.py"
        assert spec.submodule_search_locations == [str(tmp_path / "repo" / name)]
    assert finder.find_spec("ctcdecode_kit.lm", [str(tmp_path / "elsewhere")]) is None
    assert finder.find_spec("ctcdecode_kit.other", [str(package)]) is None


def test_an_installed_native_built_from_the_same_sources_is_used(source_tree, tmp_path):
    package = _fake_checkout(tmp_path / "repo")
    native = _fake_install(tmp_path / "site", source_tree.native_sources_digest(package / "csrc"))
    finder = source_tree.SourceTreeFinder(package, search_path=lambda: [str(tmp_path / "repo"), str(tmp_path / "site")])
    spec = finder.find_spec("ctcdecode_kit._native", [str(package)])
    assert Path(spec.origin) == native


@pytest.mark.parametrize("recorded", ["other sources", None], ids=["other-digest", "no-digest"])
def test_an_installed_native_from_other_sources_is_refused_with_what_to_do(source_tree, tmp_path, recorded):
    package = _fake_checkout(tmp_path / "repo")
    digest = None if recorded is None else source_tree.native_sources_digest(package / "csrc")
    (package / "csrc" / "bindings.cpp").write_text("// v2: changed since the install\n")
    native = _fake_install(tmp_path / "site", digest)
    finder = source_tree.SourceTreeFinder(package, search_path=lambda: [str(tmp_path / "site")])
    with pytest.raises(MissingDependencyError) as info:
        finder.find_spec("ctcdecode_kit._native", [str(package)])
    message = str(info.value)
    assert str(package) in message and str(native) in message
    assert "pip install -e ." in message and "another folder" in message


def test_no_native_anywhere_says_how_to_build_it(source_tree, tmp_path):
    package = _fake_checkout(tmp_path / "repo")
    finder = source_tree.SourceTreeFinder(package, search_path=lambda: [str(tmp_path / "repo")])
    with pytest.raises(MissingDependencyError, match=r"no installed copy was found.*pip install -e \."):
        finder.find_spec("ctcdecode_kit._native", [str(package)])


# ---------------------------------------------------------------- end to end, in a subprocess
SCRIPT = textwrap.dedent(
    """
    import sys
    # this venv's editable install maps ctcdecode_kit.lm itself; drop it to be a plain `pip install .`
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
    from pathlib import Path

    import numpy as np

    import ctcdecode_kit
    from ctcdecode_kit import Vocabulary, build_decoder
    from ctcdecode_kit.errors import MissingDependencyError

    assert Path(ctcdecode_kit.__file__).parent == Path.cwd() / "ctcdecode_kit", ctcdecode_kit.__file__
    import ctcdecode_kit.cli, ctcdecode_kit.lm

    print("lm", Path(ctcdecode_kit.lm.__file__).parent.name, "cli", Path(ctcdecode_kit.cli.__file__).parent.name)
    vocab = Vocabulary.from_labels(["<pad>", "|", "A", "B"])
    logits = np.log(np.array([[.1, .1, .7, .1], [.7, .1, .1, .1], [.1, .1, .1, .7]], dtype=np.float32))
    for name in ("greedy", "native"):  # the core backends (no extra needed)
        try:
            print(name, build_decoder(name, vocab).decode(logits)[0][0].text)
        except MissingDependencyError as exc:
            print(name, "MissingDependencyError:", exc)
    """
)


def _shadow(tmp_path: Path, *, same_sources: bool) -> subprocess.CompletedProcess[str]:
    native = next((REPO / "ctcdecode_kit").glob("_native*" + SUFFIX), None)
    digest = REPO / "ctcdecode_kit" / NATIVE_DIGEST_FILE  # written by setup.py's build beside the module
    if native is None or not digest.is_file():
        from tests.conftest import skip_or_fail

        skip_or_fail(f"ctcdecode_kit/_native or its {NATIVE_DIGEST_FILE} is not built in this checkout (pip install -e .)")
    checkout = tmp_path / "checkout"
    shutil.copytree(
        REPO / "ctcdecode_kit", checkout / "ctcdecode_kit",
        ignore=shutil.ignore_patterns("data", "__pycache__", "_native*"),
    )
    for name in ("lm", "cli"):
        shutil.copytree(REPO / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", checkout)
    site = tmp_path / "site" / "ctcdecode_kit"  # what a non-editable install leaves in site-packages
    site.mkdir(parents=True)
    shutil.copy(native, site)
    shutil.copy(digest, site)
    if not same_sources:
        with open(checkout / "ctcdecode_kit" / "csrc" / "bindings.cpp", "a") as source:
            source.write("// edited after the install\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=checkout, env=env, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=300,
    )


def test_python_run_from_a_shadowing_checkout_decodes_with_every_backend(tmp_path):
    result = _shadow(tmp_path, same_sources=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["lm lm cli cli", "greedy AB", "native AB"], result.stdout


def test_a_shadowing_checkout_with_changed_cpp_refuses_the_installed_native_and_says_what_to_do(tmp_path):
    result = _shadow(tmp_path, same_sources=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["lm lm cli cli", "greedy AB"], result.stdout
    assert len(lines) == 3, result.stdout
    for name, line in zip(("native",), lines[2:]):  # it uses the compiled module
        assert line.startswith(f"{name} MissingDependencyError:"), result.stdout
        assert "not built from this checkout's C++ sources" in line and "pip install -e ." in line
