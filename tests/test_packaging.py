"""The wheel installs and runs without the source tree: built from this tree
(hatchling, no network), installed with --no-deps into a fresh venv whose
dependencies come from the test venv's site-packages (a path in a .pth
file, so offline and bounded), then `msghub run` from a directory far from
the sources migrates an empty database and serves pages, static files and
/readyz from the package alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.hubproc import wait_for

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 300


def _run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling (the test extra)")
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", out, ROOT)
    [built] = out.glob("msghub-*.whl")
    return built


def test_the_wheel_carries_schema_migrations_queries_templates_and_static_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"msghub/_data/schema/{p.name}" for p in (ROOT / "schema").glob("*.sql")}
    expected |= {f"msghub/_data/migrations/{p.relative_to(ROOT / 'migrations').as_posix()}"
                 for p in (ROOT / "migrations").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    expected |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "msghub").rglob("*")
                 if p.is_file() and p.suffix in (".sql", ".html", ".css", ".js", ".py")
                 and "__pycache__" not in p.parts}
    assert sorted(expected - names) == []
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)


def test_the_installed_wheel_runs_msghub_without_the_source_tree(wheel: Path, pg_server, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    # the dependencies: the test venv's packages, after the fresh venv's own
    (purelib / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)

    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MSGHUB_DATABASE_URL")}
    where = _run(python, "-c", "import msghub, msghub.hub.paths as p; print(msghub.__file__); "
                 "print(p.schema_dir()); print(p.migrations_dir())", cwd=away, env=env).stdout.split()
    assert all(Path(w).is_relative_to(venv) for w in where), where

    dbname = f"msghub_wheel_{os.getpid()}"
    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env |= {"MSGHUB_DATABASE_URL": pg_server.url(dbname), "MSGHUB_HTTP_PORT": str(port),
            "MSGHUB_NODE_NAME": "wheel-node", "MSGHUB_ADMIN_PASSWORD": "wheel-admin-pw", "MSGHUB_LOG_LEVEL": "WARNING"}
    hub = subprocess.Popen([venv / "bin" / "msghub", "run"], cwd=away, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            try:
                return httpx.get(base + "/readyz", timeout=5).status_code == 200
            except httpx.HTTPError:
                assert hub.poll() is None, "the installed msghub stopped"
                return False

        wait_for(ready, timeout=120, what="the installed msghub to be ready")
        login = httpx.get(base + "/login", timeout=5)
        assert login.status_code == 200 and 'name="password"' in login.text
        assert httpx.get(base + "/static/hub.css", timeout=5).status_code == 200
        assert "msghub_queue_depth" in httpx.get(base + "/metrics", timeout=5).text
    finally:
        hub.terminate()
        try:
            _, err = hub.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            hub.kill()
            _, err = hub.communicate()
    assert hub.returncode == 0, err.decode(errors="replace")[-2000:]
    with psycopg.connect(pg_server.url(dbname)) as conn:
        revision = conn.execute("SELECT version_num FROM hub.alembic_version").fetchone()
    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
    assert revision is not None
