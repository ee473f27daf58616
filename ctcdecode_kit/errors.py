"""The exception hierarchy of ctcdecode_kit.

Every error the kit raises on purpose derives from :class:`CTCDecodeKitError`, and
also from the built-in exception a caller would naturally catch (``ValueError`` for
bad values, ``FileNotFoundError`` for missing files, ``ImportError`` for a missing
optional dependency), so ``except ValueError`` keeps working.

Example:
    >>> from ctcdecode_kit.errors import CTCDecodeKitError, InputError
    >>> issubclass(InputError, ValueError) and issubclass(InputError, CTCDecodeKitError)
    True
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "CTCDecodeKitError",
    "DatasetError",
    "DecoderWorkerError",
    "FileFormatError",
    "InputError",
    "LanguageModelError",
    "MissingDependencyError",
    "MissingFileError",
    "ResultsError",
    "UnknownDecoderError",
    "VocabularyError",
    "require",
    "require_native",
]


class CTCDecodeKitError(Exception):
    """Base class of every error raised on purpose by ctcdecode_kit."""


class InputError(CTCDecodeKitError, ValueError):
    """An argument has the wrong type, shape, dtype or value (logits, lengths, options)."""


class VocabularyError(InputError):
    """A vocabulary is malformed or does not fit the logits or the language model."""


class UnknownDecoderError(InputError):
    """``build_decoder`` was asked for a name that is not registered."""


class MissingFileError(CTCDecodeKitError, FileNotFoundError):
    """A file or folder the caller named does not exist."""


class FileFormatError(CTCDecodeKitError, ValueError):
    """A file exists but cannot be parsed (corrupt, empty, wrong format or encoding)."""


class AudioError(FileFormatError):
    """An audio file cannot be decoded or holds no samples."""


class DatasetError(FileFormatError):
    """A dataset description (transcript, manifest, folder) is inconsistent."""


class LanguageModelError(CTCDecodeKitError, ValueError):
    """A language model is malformed, or a custom LM broke its protocol."""


class ResultsError(FileFormatError):
    """A results file written by an earlier run is corrupt and cannot be resumed."""


class DecoderWorkerError(CTCDecodeKitError, RuntimeError):
    """A decoder's worker process died (out of memory, a crash, a script without a main guard)."""


class MissingDependencyError(CTCDecodeKitError, ImportError):
    """An optional dependency is not installed; the message gives the install command."""


def install_command(extra: str) -> str:
    """The exact command that installs one of the kit's optional extras.

    Example:
        >>> install_command("kenlm")
        "pip install 'ctcdecode-kit[kenlm]'"
    """
    return f"pip install 'ctcdecode-kit[{extra}]'"


def require(module: str, *, pip_name: str | None = None, purpose: str = "", extra: str | None = None):
    """Import an optional dependency or raise :class:`MissingDependencyError`.

    ``extra`` names the kit's extra that installs it; the error then gives that command
    (``pip install 'ctcdecode-kit[kenlm]'``) rather than the bare package.

    Example:
        >>> require("json").__name__
        'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        why = f" (needed for {purpose})" if purpose else ""
        raise MissingDependencyError(
            f"the optional dependency '{module}' is not installed{why}; "
            f"install it with: {install_command(extra) if extra else f'pip install {pip_name or module}'}"
        ) from exc


def require_native(purpose: str):
    """The compiled module ``ctcdecode_kit._native``, or :class:`MissingDependencyError` saying how to build it.

    It is part of every install (``pip install .`` compiles it), so its absence is a broken
    build, reported loudly, never a silently missing feature.

    Example:
        >>> require_native("the native decoder").__name__
        'ctcdecode_kit._native'
    """
    try:
        from . import _native
    except MissingDependencyError:
        raise  # already says what to do (see ctcdecode_kit._source_tree)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the compiled module ctcdecode_kit._native, which is missing ({exc}); reinstall "
            f"with a C++17 compiler available: 'pip install .' (or 'pip install -e .' in a checkout)"
        ) from exc
    return _native
