"""Runs a real hub process (`msghub run`) against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

START_TIMEOUT_S = 30.0


def start_hub(db_url: str, roles: str = "connectors,scheduler", node: str = "test-node",
              **env: str) -> subprocess.Popen[bytes]:
    full_env = {**os.environ, "MSGHUB_DATABASE_URL": db_url, "MSGHUB_NODE_NAME": node,
                "MSGHUB_POLL_INTERVAL_S": "0.5", "MSGHUB_LOG_LEVEL": "WARNING", **env}
    return subprocess.Popen([sys.executable, "-m", "msghub.app.cli", "run", "--only", roles], env=full_env)


def stop_hub(proc: subprocess.Popen[bytes]) -> int:
    proc.terminate()
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def wait_for(check: Callable[[], Any], timeout: float = START_TIMEOUT_S, what: str = "condition") -> Any:
    """Polls check() until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
