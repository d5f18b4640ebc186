"""The package version, importable without the market code that ``tradea3c/__init__`` pulls in."""

__version__ = "0.1.0"
