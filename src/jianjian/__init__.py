"""jianjian — 件件有着落: every parcel accounted for."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The version lives in pyproject.toml only; the installed package's metadata carries it.
    __version__ = version("jianjian")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
