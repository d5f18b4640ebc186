"""Strategies, worker profiles and rule baselines by name: the user's folder first, then the shipped copy.

The shipped TOML files are package data (``tradea3c/strategies``, read through
``importlib.resources``), so a wheel install finds them. A ``strategies/`` folder in the working
directory (or ``$TRADEA3C_STRATEGIES``) holds the user's own files, with the same sub-folders
(``profiles/``, ``rules/``); a file there wins over a shipped file of the same name.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def shipped_dir(sub: str = "") -> Path:
    """Folder of the shipped files (``sub``: "", "profiles" or "rules")."""
    return Path(str(resources.files("tradea3c").joinpath("strategies"))) / sub


def user_dir(sub: str = "") -> Path:
    """The user's strategies folder: ``$TRADEA3C_STRATEGIES`` or ``./strategies``."""
    return Path(os.environ.get("TRADEA3C_STRATEGIES") or "strategies") / sub


def find_toml(sub: str, name: str) -> Path:
    """``name`` (a path to a .toml file, or a bare name) -> the file to read; FileNotFoundError names
    both places looked in and the names available."""
    path = Path(name)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found; pass an existing .toml file or a name from {names(sub)}"
            )
        return path
    for folder in (user_dir(sub), shipped_dir(sub)):
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    raise FileNotFoundError(
        f"no {sub or 'strategy'} named {name!r} in {user_dir(sub)}/ or the shipped ones; "
        f"use one of {names(sub)} or a path to a .toml file"
    )


def listing(sub: str = "") -> list[Path]:
    """Every available file of ``sub``, sorted by name; user files replace shipped ones of that name."""
    found = {p.stem: p for p in shipped_dir(sub).glob("*.toml")}
    found.update({p.stem: p for p in user_dir(sub).glob("*.toml")})
    return [found[k] for k in sorted(found)]


def names(sub: str = "") -> list[str]:
    return [p.stem for p in listing(sub)]
