"""The named queries: every one is used, every name used exists, and every
.sql file of the package follows the one convention (msghub/hub/queries.py).

"Used" is read from the source: a query name used anywhere in msghub as a
string literal in X_QUERIES[...] or X_QUERIES.one/all/run(tx, "name", ...),
or, for names picked at run time, as a string literal elsewhere in the
module that holds the constant's import."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from msghub.hub.queries import Queries

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "msghub"

LOADER_CALLS = {"beside", "load_queries", "Queries"}


def _find_loaders() -> dict[str, str]:
    """constant -> the module that loads it: every module-level
    `NAME = Queries.beside(...)` (or Queries(...), load_queries(...)) in msghub."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            func = node.value.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in LOADER_CALLS:
                for target in node.targets:
                    assert isinstance(target, ast.Name)
                    assert target.id not in found, f"{target.id} loaded twice ({found[target.id]}, {module})"
                    found[target.id] = module
    return found


LOADERS = _find_loaders()
TYPED_READS = {"one", "all", "run"}


def _loaded() -> dict[str, Queries]:
    return {name: getattr(importlib.import_module(module), name) for name, module in LOADERS.items()}


def _uses() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(names used directly, string literals of the modules using) per constant."""
    direct: dict[str, set[str]] = {name: set() for name in LOADERS}
    nearby: dict[str, set[str]] = {name: set() for name in LOADERS}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in LOADERS:
                constant = node.value.id
                found = {n.value for n in ast.walk(node.slice) if isinstance(n, ast.Constant)}
                direct[constant] |= {v for v in found if isinstance(v, str)}
                if not found:
                    nearby[constant] |= literals
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in TYPED_READS and isinstance(node.func.value, ast.Name)
                  and node.func.value.id in LOADERS and len(node.args) >= 2
                  and isinstance(node.args[1], ast.Constant)):
                direct[node.func.value.id].add(str(node.args[1].value))
    return direct, nearby


def test_every_named_query_is_used_and_every_used_name_exists() -> None:
    loaded = _loaded()
    direct, nearby = _uses()
    missing = sorted(f"{c}[{n!r}]" for c, names in direct.items() for n in names if n not in loaded[c])
    unused = sorted(f"{loaded[c].path.name}: {n}" for c, q in loaded.items() for n in q
                    if n not in direct[c] and n not in nearby[c])
    assert missing == [], "used but not defined"
    assert unused == [], "defined but never used"


def test_every_sql_file_of_the_package_is_loaded_by_the_convention() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.sql")}
    loaded = {q.path.relative_to(ROOT).as_posix() for q in _loaded().values()}
    assert files == loaded
    assert all(re.fullmatch(r".*/(\w+_queries|hub/queries)\.sql", f) for f in files), files
    # one loader module per package (its queries.py), one constant per file, named after it
    for name, module in LOADERS.items():
        assert module.endswith(".queries"), f"{name} is loaded in {module}, not in its package's queries.py"
        stem = _loaded()[name].path.stem
        assert name == ("QUERIES" if stem == "queries" else f"{stem.removesuffix('_queries').upper()}_QUERIES")


def test_the_loader_refuses_a_name_twice_and_names_the_file_of_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "x_queries.sql"
    path.write_text("-- name: a\nSELECT 1\n\n-- name: b\n-- a comment\nSELECT 2\n")
    queries = Queries(path)
    assert dict(queries) == {"a": "SELECT 1", "b": "-- a comment\nSELECT 2"}
    with pytest.raises(KeyError, match=r"no query 'c' in x_queries\.sql"):
        queries["c"]
    path.write_text("-- name: a\nSELECT 1\n-- name: a\nSELECT 2\n")
    with pytest.raises(ValueError, match="query 'a' defined twice"):
        Queries(path)
