"""Importing ``ctcdecode_kit`` straight from a checkout that shadows an installed copy.

In the repository the subpackages ``ctcdecode_kit.lm`` and ``ctcdecode_kit.cli`` live in the
top-level folders ``lm/`` and ``cli/`` (pyproject's ``package-dir`` maps them at install time),
and the compiled ``ctcdecode_kit._native`` exists only once ``pip install`` has built it. So
when Python runs from the repository root (``python -c ...`` or ``python -m pytest`` put the
current directory first on ``sys.path``) after a normal, non-editable ``pip install .``, it
imports the source folder ``ctcdecode_kit/``, which has neither.

Importing this module as ``ctcdecode_kit._source_tree`` (the package's ``__init__`` does so
first) calls :func:`install_source_tree_finder`. When the package folder is such a source
folder (no ``lm/`` inside it, but ``lm/``, ``cli/`` and ``pyproject.toml`` beside it), that
appends a finder to ``sys.meta_path``, consulted after every other finder (so an editable
install's own mapping still wins), which

* maps ``ctcdecode_kit.lm`` and ``ctcdecode_kit.cli`` to the checkout's ``lm/`` and ``cli/``;
* loads ``ctcdecode_kit._native`` from an installed copy of the kit found on ``sys.path``, but
  only when that copy was built from exactly this checkout's C++ sources (``pip install``
  records their digest beside the extension, see setup.py); otherwise importing it raises
  :class:`~ctcdecode_kit.errors.MissingDependencyError` saying what to do (run from another
  folder, or build in place with ``pip install -e .``).

This module uses only the standard library at import time: setup.py loads it by path to
compute the same digest.

Example:
    >>> import tempfile
    >>> csrc = Path(tempfile.mkdtemp())
    >>> _ = (csrc / "bindings.cpp").write_text("int main() { return 0; }")
    >>> len(native_sources_digest(csrc))
    64
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["NATIVE_DIGEST_FILE", "SourceTreeFinder", "install_source_tree_finder", "native_sources_digest"]

PACKAGE = "ctcdecode_kit"
NATIVE = f"{PACKAGE}._native"
#: Written beside the compiled extension by setup.py: the digest of the C++ sources it was built from.
NATIVE_DIGEST_FILE = "_native.sources.sha256"
_SOURCE_SUFFIXES = (".cpp", ".cc", ".hpp", ".h")


def native_sources_digest(csrc: Path) -> str | None:
    """SHA-256 over the names and bytes of the C++ sources in ``csrc``, or None when it has none.

    Example:
        >>> native_sources_digest(Path("/no/such/folder")) is None
        True
    """
    if not csrc.is_dir():
        return None
    files = sorted(path for path in csrc.iterdir() if path.suffix in _SOURCE_SUFFIXES and path.is_file())
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_source_folder(package_dir: Path) -> bool:
    """Whether ``package_dir`` is the checkout's ``ctcdecode_kit/`` (its ``lm``/``cli`` live beside it).

    Example:
        >>> is_source_folder(Path("/no/such/ctcdecode_kit"))
        False
    """
    repo = package_dir.parent
    return (
        not (package_dir / "lm").exists()
        and (repo / "lm" / "__init__.py").is_file()
        and (repo / "cli" / "__init__.py").is_file()
        and (repo / "pyproject.toml").is_file()
    )


class SourceTreeFinder(importlib.abc.MetaPathFinder):
    """Resolves ``ctcdecode_kit.lm``, ``.cli`` and ``._native`` for a package imported from a checkout.

    ``search_path`` gives the folders in which to look for an installed ``ctcdecode_kit/_native*``
    (``sys.path`` at the time of the import by default).
    """

    def __init__(self, package_dir: Path, search_path: Callable[[], Sequence[str]] = lambda: sys.path) -> None:
        self.package_dir = package_dir
        self.repo = package_dir.parent
        self.subpackages = {f"{PACKAGE}.lm": self.repo / "lm", f"{PACKAGE}.cli": self.repo / "cli"}
        self._search_path = search_path

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: object = None):
        if path is None or not any(_same(Path(entry), self.package_dir) for entry in path):
            return None  # a submodule of some other ctcdecode_kit, or not a submodule at all
        folder = self.subpackages.get(fullname)
        if folder is not None:
            return importlib.util.spec_from_file_location(
                fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
            )
        if fullname == NATIVE:
            return self._native_spec()
        return None

    def installed_native(self) -> Path | None:
        """The first compiled ``ctcdecode_kit/_native*`` on the search path outside this checkout."""
        for entry in self._search_path():
            folder = Path(entry or ".") / PACKAGE
            if _same(folder, self.package_dir):
                continue
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                candidate = folder / f"_native{suffix}"
                if candidate.is_file():
                    return candidate
        return None

    def _native_spec(self):
        from .errors import MissingDependencyError

        where = (
            f"ctcdecode_kit is imported from the source folder {self.package_dir} (the repository root is on "
            f"sys.path, e.g. as the current directory), which has no compiled ctcdecode_kit._native"
        )
        todo = "run Python from another folder to use the installed package, or build this checkout in place with `pip install -e .`"
        installed = self.installed_native()
        if installed is None:
            raise MissingDependencyError(f"{where}, and no installed copy was found; {todo}", name=NATIVE)
        recorded = installed.parent / NATIVE_DIGEST_FILE
        wanted = native_sources_digest(self.package_dir / "csrc")
        try:
            matches = wanted is not None and recorded.read_text(encoding="utf-8").strip() == wanted
        except OSError:
            matches = False
        if not matches:
            raise MissingDependencyError(
                f"{where}; the installed one at {installed} was not built from this checkout's C++ sources, "
                f"so it is not used; {todo}",
                name=NATIVE,
            )
        return importlib.util.spec_from_file_location(NATIVE, installed)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def install_source_tree_finder(package_path: Sequence[str]) -> SourceTreeFinder | None:
    """Append a :class:`SourceTreeFinder` to ``sys.meta_path`` when the package is imported from a checkout.

    Returns the finder (an existing one for the same folder is reused), or None for an installed package.

    Example:
        >>> install_source_tree_finder(["/no/such/ctcdecode_kit"]) is None
        True
    """
    if len(package_path) != 1:
        return None
    package_dir = Path(package_path[0])
    if not is_source_folder(package_dir):
        return None
    for finder in sys.meta_path:  # by name: a reloaded module defines a new class
        if type(finder).__name__ == "SourceTreeFinder" and _same(getattr(finder, "package_dir", Path()), package_dir):
            return finder
    finder = SourceTreeFinder(package_dir)
    sys.meta_path.append(finder)
    return finder


if __name__ == f"{PACKAGE}._source_tree":  # imported by the package (setup.py loads this file under another name)
    install_source_tree_finder([str(Path(__file__).resolve().parent)])
