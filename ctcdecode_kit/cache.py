"""Where the kit keeps files it derives from a user's files (LM binaries, lexicons).

A derived file goes beside its source when that folder is writable, so it is found again
and removed with the source; otherwise it goes under the user cache folder
(``$XDG_CACHE_HOME/ctcdecode_kit``, default ``~/.cache/ctcdecode_kit``), in a
sub-folder named after the source's absolute path so that two sources of the same name
never share a cache file. Run results and their logits are not caches of this kind: they
live in the run's ``--output`` folder only.

Example:
    >>> import tempfile
    >>> user_cache_dir().name
    'ctcdecode_kit'
    >>> source = Path(tempfile.mkdtemp()) / "lm.arpa"
    >>> derived_path(source, ".bin") == source.with_name("lm.arpa.bin")
    True
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["derived_path", "user_cache_dir"]

_APP = "ctcdecode_kit"


def user_cache_dir() -> Path:
    """The kit's user cache folder, ``$XDG_CACHE_HOME/ctcdecode_kit`` or ``~/.cache/ctcdecode_kit``.

    The folder is not created; callers create it when they write.

    Example:
        >>> user_cache_dir().name
        'ctcdecode_kit'
    """
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / _APP


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, since permission bits lie for root).

    A folder without any write permission bit (``r-x``: data marked read-only) counts as not
    writable even for root, who could still write into it.
    """
    try:
        if folder.stat().st_mode & 0o222 == 0:
            return False
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ctcdecode-kit-probe-"):
            return True
    except OSError:
        return False


def derived_path(source: str | Path, suffix: str) -> Path:
    """Where to keep a file derived from ``source``: ``<source><suffix>`` beside it, or in the user cache.

    The user cache is used when the source's folder is not writable (read-only data,
    another user's files); the file is then
    ``user_cache_dir()/<hash of the source's absolute path>/<source name><suffix>``.

    Example:
        >>> derived_path("/no-such-folder/lm.arpa", ".bin").parent.parent == user_cache_dir()
        True
    """
    source = Path(source).expanduser().absolute()
    if _writable(source.parent):
        return source.with_name(source.name + suffix)
    key = hashlib.blake2b(str(source).encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()
    return user_cache_dir() / key / (source.name + suffix)

