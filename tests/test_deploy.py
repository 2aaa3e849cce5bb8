"""The deployment files in deploy/, checked statically: no Docker engine
runs on the test machines, so the Dockerfile and compose.yaml are read, not
built; the systemd unit goes through systemd-analyze (offline) where it is
installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
MAX_EXPOSURE = 2.5  # systemd-analyze security: 0 (locked down) to 10 (exposed); "OK" is below 3


def _unit(tmp_path: Path) -> Path:
    """The unit with /opt/msghub/bin pointed at this venv, as an install would."""
    text = (DEPLOY / "msghub.service").read_text().replace("/opt/msghub/bin", str(Path(sys.executable).parent))
    unit = tmp_path / "msghub.service"
    unit.write_text(text)
    return unit


def test_the_systemd_unit_is_hardened(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = _unit(tmp_path)
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)],
                         capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"Overall exposure level for msghub\.service: ([0-9.]+)", out)
    assert match, out[-2000:]
    assert float(match.group(1)) <= MAX_EXPOSURE


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = _unit(tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "msghub.service" in line and "network-online" not in line and "postgresql" not in line]
    assert problems == []


def test_the_unit_runs_only_documented_roles_and_commands() -> None:
    from msghub.app.runtime import ROLES

    text = (DEPLOY / "msghub.service").read_text()
    roles = re.search(r"MSGHUB_ROLES=([a-z,]+)", text)
    assert roles and set(roles.group(1).split(",")) == set(ROLES)
    assert re.search(r"^ExecStart=/opt/msghub/bin/msghub run --only \$\{MSGHUB_ROLES\}$", text, re.M)
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "StateDirectory=msghub"):
        assert f"\n{option}\n" in text


def test_the_dockerfile_installs_the_wheel_and_runs_unprivileged() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) == 2 and all(":" in f.split()[1] for f in froms), "pinned base images, two stages"
    for path in ("pyproject.toml", "msghub", "schema", "migrations"):
        assert any(line.startswith("COPY ") and path in line.split() for line in lines), path
        assert (ROOT / path).exists()
    assert any("pip wheel" in line for line in lines)
    assert any("pip install" in line and ".whl" in line for line in lines)
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1] != "USER root"
    assert lines.index(user[-1]) > max(i for i, line in enumerate(lines) if line.startswith("RUN "))
    assert "EXPOSE 8080" in lines and any("/readyz" in line for line in lines)
    assert lines[-1] == 'CMD ["msghub", "run"]'


def test_the_compose_file_wires_msghub_to_its_postgresql() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    pg, hub = services["postgres"], services["msghub"]
    env = pg["environment"]
    url = hub["environment"]["MSGHUB_DATABASE_URL"]
    assert url == f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    assert hub["depends_on"]["postgres"]["condition"] == "service_healthy" and "healthcheck" in pg
    assert (ROOT / "deploy" / hub["build"]["context"] / hub["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert all(p.startswith("127.0.0.1:") for p in hub["ports"]), "published on loopback only"
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert named <= set(compose["volumes"])
    from msghub.hub.config import ENV_SETTINGS

    known = {s.name for s in ENV_SETTINGS}
    assert set(hub["environment"]) <= known
