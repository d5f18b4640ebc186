"""Why ``weights_only`` refused a file: an old (FORMAT 1) tradea3c pickle, or something else.

The pickle's opcodes are read, never executed, to list the globals it would import: a file that
names only what FORMAT 1 checkpoints held gets the upgrade hint, anything else is refused as code.
"""

from __future__ import annotations

import io
import pickletools
import re
import zipfile
from pathlib import Path

from tradea3c.a3c.checkpoint.plain import CheckpointError, LegacyCheckpointError


def printable(text: str, limit: int = 60) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:limit]


def _pickle_globals(path: Path) -> set[str] | None:
    """The ``module name`` globals the pickles of a torch file (zip or legacy) refer to, found by
    reading opcodes only (nothing is executed); None if the file holds no parsable pickle."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                infos = [i for i in z.infolist() if i.filename.endswith("data.pkl")]
                if len(infos) != 1 or infos[0].file_size > 512 * 2**20:
                    return None
                data = z.read(infos[0])
        else:
            data = path.read_bytes()[: 512 * 2**20]
    except (OSError, zipfile.BadZipFile):
        return None
    stream, found, parsed = io.BytesIO(data), set(), False
    while stream.tell() < len(data):  # legacy files are several pickles, then raw storage bytes
        strings: list[str] = []
        try:
            for op, arg, _ in pickletools.genops(stream):
                if op.name in ("GLOBAL", "INST"):
                    found.add(str(arg))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.add(f"{strings[-2]} {strings[-1]}")
                elif isinstance(arg, str):
                    strings.append(arg)
        except Exception:  # noqa: BLE001 - not (or no longer) a pickle stream
            break
        parsed = True
    return found if parsed else None


_V1_GLOBALS = {
    "collections OrderedDict",
    "_codecs encode",
    "functools partial",
    "numpy dtype",
    "numpy ndarray",
    "tradea3c.a3c.models build_model",  # FORMAT 1 pickles name the old module; still importable there
    "tradea3c.a3c.config ModelConfig",
    "tradea3c.atari.model AtariModelFactory",
}
_V1_PATTERNS = re.compile(
    r"torch \w+Storage|torch\._utils _rebuild_\w+|torch (float|int|uint|bool|bfloat)\w*"
    r"|numpy\.(_core|core)\.multiarray (_reconstruct|scalar)"
    r"|numpy\.random\.[\w.]+ (MT19937|PCG64|PCG64DXSM|Philox|SFC64|SeedSequence|__pyx_unpickle_SeedSequence"
    r"|__bit_generator_ctor|__generator_ctor|__randomstate_ctor)"
    r"|gymnasium\.spaces\.\w+ (Box|Discrete|MultiDiscrete|MultiBinary|Tuple|Dict)"
)


def legacy_message(path: Path) -> str:
    return (
        f"{path}: FORMAT 1 checkpoint (a pickle, can run code) refused; if you made it, convert it "
        f"once: tradea3c checkpoint upgrade {path} --trust-pickle"
    )


def refusal(path: Path) -> CheckpointError:
    """weights_only rejected the file: a FORMAT 1 checkpoint, or something else that is not data."""
    names = _pickle_globals(path)
    if names is None:
        return CheckpointError(f"{path} is not a tradea3c checkpoint or is damaged (not a torch file)")
    if names and all(n in _V1_GLOBALS or _V1_PATTERNS.fullmatch(n) for n in names):
        return LegacyCheckpointError(legacy_message(path))
    odd = sorted(n for n in names or () if n not in _V1_GLOBALS and not _V1_PATTERNS.fullmatch(n))
    shown = f" ({', '.join(printable(n.replace(' ', '.')) for n in odd[:3])})" if odd else ""
    return CheckpointError(
        f"{path}: refused: the file contains code or objects that are not plain data{shown}; not loaded"
    )
