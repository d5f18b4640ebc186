"""Checkpoints that cannot run code (``format.py``), their plain-data conversion (``plain.py``),
the diagnosis of refused files (``pickle_scan.py``) and the one-off FORMAT 1 upgrade (``upgrade.py``)."""

from tradea3c.a3c.checkpoint.format import LoadedCheckpoint, load_checkpoint, read_checkpoint, save_checkpoint
from tradea3c.a3c.checkpoint.plain import CheckpointError, LegacyCheckpointError, NotPlainDataError
from tradea3c.a3c.checkpoint.upgrade import upgrade_checkpoint

__all__ = [
    "CheckpointError",
    "LegacyCheckpointError",
    "LoadedCheckpoint",
    "NotPlainDataError",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "upgrade_checkpoint",
]
