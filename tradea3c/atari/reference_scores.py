"""Reference scores of the Atari suite (``references.json``), human normalisation and the named game sets.

``references.json`` holds, for the standard 57 games, the random and human scores with no-op starts
(DQN Nature 2015; Wang et al. 2016 for the games it lacks, and Wang et al.'s columns for all 57)
and the A3C paper's Table S3 scores (human starts), each with its source, condition and check status.

Named game sets (`GAME_SETS`, resolved by `resolve_games`): ``atari57`` (the standard
57-game set), ``atari5`` (Aitchison et al. 2023, see `tradea3c.atari.atari5`) and ``paper6``
(`PAPER_GAMES`, the six games this suite and its reference table started with).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

PAPER_GAMES = ("Pong", "Breakout", "BeamRider", "Qbert", "Seaquest", "SpaceInvaders")
ATARI57 = tuple(
    """Alien Amidar Assault Asterix Asteroids Atlantis BankHeist BattleZone BeamRider Berzerk Bowling Boxing
    Breakout Centipede ChopperCommand CrazyClimber Defender DemonAttack DoubleDunk Enduro FishingDerby Freeway
    Frostbite Gopher Gravitar Hero IceHockey Jamesbond Kangaroo Krull KungFuMaster MontezumaRevenge MsPacman
    NameThisGame Phoenix Pitfall Pong PrivateEye Qbert Riverraid RoadRunner Robotank Seaquest Skiing Solaris
    SpaceInvaders StarGunner Surround Tennis TimePilot Tutankham UpNDown Venture VideoPinball WizardOfWor
    YarsRevenge Zaxxon""".split()
)  # the standard 57-game set, spelt as ale-py / Gymnasium env ids (rom_name() gives the ROM id)
ATARI5 = ("BattleZone", "DoubleDunk", "NameThisGame", "Phoenix", "Qbert")  # Aitchison et al. 2023
GAME_SETS: dict[str, tuple[str, ...]] = {"atari57": ATARI57, "atari5": ATARI5, "paper6": PAPER_GAMES}


def references() -> dict[str, Any]:
    """The committed reference scores (with sources and check status), see ``references.json``."""
    text = resources.files("tradea3c.atari").joinpath("references.json").read_text()
    return json.loads(text)


@functools.cache
def _values() -> dict[tuple[str, str], float]:
    """Every (game, key) -> value of ``references.json``, parsed once: tables and medians look up
    hundreds of them."""
    games = references()["games"]
    return {(g, k): float(e["value"]) for g, entries in games.items() for k, e in entries.items()}


def ref_value(game: str, key: str) -> float | None:
    """One reference score (``key``: random, human, a3c_ff_1day, ...) of ``game``; None if absent."""
    return _values().get((game, key))


def _known_roms() -> set[str]:
    try:
        import ale_py.roms
    except ImportError:  # pragma: no cover - depends on the install
        return set()
    return {r.replace("_", "") for r in ale_py.roms.get_all_rom_ids()}


def resolve_games(spec: str) -> list[str]:
    """Comma-separated game names and/or named sets (`GAME_SETS`) -> game names, in order, once each.

    Set names are case-insensitive; a game of the 57-game set may be spelt in any case
    (``montezumarevenge`` -> ``MontezumaRevenge``); other ale-py games pass through as written.
    Raises `ValueError` with a one-line message naming the valid sets.
    """
    canonical = {g.lower(): g for g in ATARI57}
    names: list[str] = []
    roms: set[str] | None = None
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        if token.lower() in GAME_SETS:
            names.extend(GAME_SETS[token.lower()])
        elif token.lower() in canonical:
            names.append(canonical[token.lower()])
        else:
            roms = _known_roms() if roms is None else roms
            if token.replace("_", "").lower() not in roms:
                sets = ", ".join(f"{k} ({len(v)} games)" for k, v in GAME_SETS.items())
                raise ValueError(
                    f"unknown game or game set {token!r}: valid sets are {sets}, or comma-separated games"
                )
            names.append(token)
    if not names:
        raise ValueError("no games given")
    return list(dict.fromkeys(names))


def normalized_with(game: str, score: float, refs: str = "dqn_nature") -> float | None:
    """Human-normalised score with ``refs="dqn_nature"`` (keys random/human, as `human_normalized`)
    or ``refs="wang_2016"`` (Wang et al. 2016's Random/Human columns for all 57 games)."""
    keys = {"dqn_nature": ("random", "human"), "wang_2016": ("random_wang_2016", "human_wang_2016")}
    if refs not in keys:
        raise ValueError(f"refs must be one of {sorted(keys)}, got {refs!r}")
    rnd, hum = (ref_value(game, k) for k in keys[refs])
    if rnd is None or hum is None or hum == rnd:
        return None
    return (score - rnd) / (hum - rnd)


def paper_median(agent: str = "a3c_ff_1day", refs: str = "dqn_nature") -> dict[str, Any]:
    """The 57-game median (and mean) human-normalised score of a published agent in ``references.json``.

    ``agent`` is a per-game key: ``a3c_ff_1day`` (default), ``a3c_ff`` or ``a3c_lstm``, the A3C paper's
    Table S3 scores, measured under HUMAN STARTS (episodes start from states a human reached), while
    the random/human references and our evaluations use no-op starts; the two conditions are not
    interchangeable, so treat the result as a yardstick. ``refs`` picks the normalisation (see
    `normalized_with`); ``wang_2016`` is the closest to the table the Atari-5 regression was
    fitted with. Returns fractions (1.0 = human) with the condition and the number of games used.
    """
    import statistics

    ref = references()
    scores = {}
    for game, entries in ref["games"].items():
        if agent in entries:
            hn = normalized_with(game, float(entries[agent]["value"]), refs)
            if hn is not None:
                scores[game] = hn
    if not scores:
        raise ValueError(f"no game in references.json has {agent!r}")
    conditions = sorted({e[agent]["condition"] for e in ref["games"].values() if agent in e})
    return {
        "agent": agent,
        "refs": refs,
        "games": len(scores),
        "median": statistics.median(scores.values()),
        "mean": statistics.fmean(scores.values()),
        "condition": ", ".join(conditions),
        "per_game": scores,
    }


def human_normalized(game: str, score: float) -> float | None:
    """(score - random) / (human - random) with the DQN Nature 2015 references; None if unknown."""
    rnd, hum = ref_value(game, "random"), ref_value(game, "human")
    if rnd is None or hum is None or hum == rnd:
        return None
    return (score - rnd) / (hum - rnd)
