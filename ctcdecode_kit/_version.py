__version__ = "0.1.0"

REPORTED_PACKAGES = ("torch", "transformers", "pyctcdecode", "kenlm", "jiwer", "numpy")


def package_versions() -> dict[str, str]:
    """Versions of the kit and of the packages its results depend on (for reports).

    Example:
        >>> package_versions()["ctcdecode-kit"] == __version__
        True
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"ctcdecode-kit": __version__}
    for dist in REPORTED_PACKAGES:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out
