"""Where msghub's SQL lives: in the source tree, or inside an installed wheel."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_SOURCE_TREE = _PACKAGE.parent
_WHEEL_DATA = _PACKAGE / "_data"


def _find(name: str) -> Path:
    for root in (_SOURCE_TREE, _WHEEL_DATA):
        candidate = root / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"msghub installation is incomplete: no {name}/ directory found")


def schema_dir() -> Path:
    return _find("schema")


def migrations_dir() -> Path:
    return _find("migrations")


def sql_examples_dir() -> Path:
    return _SOURCE_TREE / "sql_examples"
