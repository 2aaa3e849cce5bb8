"""`msghub run --demo` (what `make run` starts): the URL, the first admin's
password, and a message that goes out over EMI and gets a reply."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_prints_credentials_and_a_round_trip(db_url):
    port = _free_port()
    env = {**os.environ, "MSGHUB_DATABASE_URL": db_url, "MSGHUB_HTTP_PORT": str(port), "MSGHUB_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "msghub.app.cli", "run", "--demo"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                any("delivered after" in s for s in seen) and any("reply from" in s for s in seen)):
            try:
                seen.append(lines.get(timeout=1).rstrip())
            except queue.Empty:
                assert proc.poll() is None, "\n".join(seen)
    finally:
        proc.terminate()
        code = proc.wait(30)
        reader.join(10)
        proc.stdout.close()
    assert code == 0
    text = "\n".join(seen)
    assert f"web app on http://127.0.0.1:{port}/" in text
    assert "user name: admin    password: " in text
    password = text.split("password: ", 1)[1].split()[0]
    assert len(password) >= 16
    assert "through 'demo-smsc' (EMI to the SMSC simulator)" in text
    assert "sent after" in text and "delivered after" in text, text
    assert "reply from +15550100 received after" in text and "'Got it, thanks!'" in text, text
