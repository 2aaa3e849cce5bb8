"""One pseudo-terminal of the simulated device: the master side the
simulator reads and writes, the slave path a client opens, an optional
symlink that follows re-plugs. Used only from the simulator's thread (under
its lock)."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import tty
from pathlib import Path

from msghub.devtools.modem.engine import Engine

READ_CHUNK = 4096
MAX_OUTPUT = 1 << 20  # bytes held for a client that does not read; older output is dropped
KINDS = ("command", "data", "diag")


class PtyPort:
    """kind "command": the device's AT port (SMS, URCs); "data": a second AT
    port that answers identity commands but no SMS commands and prints no
    URCs (a data card's modem port); "diag": a port that never answers."""

    def __init__(self, kind: str, link: Path | None, engine: Engine | None) -> None:
        self.kind = kind
        self.link = link
        self.engine = engine
        self.master: int | None = None
        self.path: str | None = None
        self.open = False  # a client has the slave side open
        self.out = bytearray()
        self.fresh = True  # powered up, no client seen yet: boot lines pending

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or line editing in the kernel: the device does that
        self.path = os.ttyname(slave)
        os.close(slave)  # the client opens it; until then reads say EIO
        os.set_blocking(master, False)
        self.master = master
        self.open = False
        self.fresh = True
        self.out.clear()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            self.link.symlink_to(self.path)

    def unplug(self) -> None:
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.close(self.master)
        self.master = None
        self.open = False
        self.path = None
        self.out.clear()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    @property
    def client_path(self) -> str | None:
        """What a client opens: the link if there is one, else the pty."""
        if self.link is not None:
            return str(self.link) if self.master is not None else None
        return self.path

    def queue(self, data: bytes) -> None:
        """Output for the client; dropped while nobody has the port open, as
        a serial port that nobody reads loses it."""
        if self.master is not None and self.open and self.kind != "diag":
            self.out += data
            del self.out[:-MAX_OUTPUT]

    def client_arrived(self) -> bool:
        """Whether a client opened the slave since the last look (no hang-up)."""
        if self.master is None or self.open:
            return False
        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        if any(ev & select.POLLHUP for _, ev in poller.poll(0)):
            return False
        self.open = True
        return True

    def read(self) -> bytes | None:
        """What the client sent; b"" for nothing now; None when it closed the port."""
        if self.master is None:
            return b""
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self.open = False
            self.out.clear()
            return None
        return data

    def flush(self) -> None:
        if self.master is None or not self.open or not self.out:
            return
        try:
            written = os.write(self.master, self.out)
            del self.out[:written]
        except BlockingIOError:
            pass
        except OSError:
            self.out.clear()
