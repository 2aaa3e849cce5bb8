"""The layers of docs/ARCHITECTURE.md, checked on the imports: the kernel
imports nothing above it, the web no connector, no product module the
development tools, and only the composition root wires the parts."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "msghub"

# package -> the msghub packages it may import (besides itself and msghub.errors)
ALLOWED = {
    "hub": set(),
    "sms": set(),
    "mms": set(),
    "contacts": set(),
    # the MIME codec the e-mail kinds share: on the contract's data types (connectors.base) only
    "email": {"connectors"},
    "connectors": {"sms", "mms", "email"},
    "services": {"hub", "connectors", "email"},
    "auth": {"hub", "services"},
    "rules": {"hub"},
    "gateway": {"hub", "rules"},
    "web": {"hub", "services", "auth", "contacts", "rules", "sms", "mms", "email", "gateway"},
    "app": {"hub", "sms", "mms", "connectors", "email", "services", "auth", "contacts", "rules", "gateway", "web",
            "devtools"},
    "devtools": {"hub", "sms", "mms", "connectors", "email", "services", "rules", "gateway", "web", "app"},
}
# msghub.email may use only the contract's data types, no connector kind
EMAIL_FROM_CONNECTORS = {"msghub.connectors.base"}
# the rules' command modules run their commands through the CLI's transaction
EXCEPTIONS = {("msghub.rules.cli", "app"), ("msghub.rules.dispatch_cli", "app")}


def _imports() -> list[tuple[str, str, str]]:
    """(module, its package, imported msghub package) for every import."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(p for p in parts if p != "__init__")
        if len(parts) < 3:
            continue  # msghub/__init__.py, msghub/errors.py
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                bits = name.split(".")
                if bits[0] == "msghub" and len(bits) > 1 and bits[1] not in (parts[1], "errors"):
                    found.append((module, parts[1], bits[1]))
    return found


def test_every_package_imports_only_the_layers_below_it() -> None:
    imports = _imports()
    assert {package for _, package, _ in imports} <= set(ALLOWED)
    wrong = sorted({f"{module} imports msghub.{target}" for module, package, target in imports
                    if target not in ALLOWED[package] and (module, target) not in EXCEPTIONS})
    assert wrong == []


def test_the_web_imports_no_connector_and_the_kernel_nothing_above_it() -> None:
    imports = _imports()
    assert [m for m, package, target in imports if package == "web" and target == "connectors"] == []
    assert [m for m, package, _ in imports if package == "hub"] == []


def test_the_email_codec_uses_only_the_contracts_data_types() -> None:
    found = set()
    for path in (PACKAGE / "email").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("msghub.connectors"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("msghub.connectors")}
    assert found <= EMAIL_FROM_CONNECTORS
