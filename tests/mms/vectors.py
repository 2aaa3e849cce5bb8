"""Where the shared MMS vectors are (../shared/vectors/mms, or MSGHUB_VECTORS)."""

import os
from pathlib import Path


def vectors_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"
    return Path(os.environ.get("MSGHUB_VECTORS", default))


def mms_vectors() -> list[Path]:
    folder = vectors_dir() / "mms"
    return sorted(folder.glob("*.mms")) + sorted(folder.glob("*.MMS")) if folder.is_dir() else []
