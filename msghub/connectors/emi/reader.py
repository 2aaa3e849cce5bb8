"""FrameReader: cut a byte stream into frames between STX and ETX. No I/O.

Bytes outside STX...ETX are dropped (and counted in `discarded`). An STX
inside a frame means the frame before it was cut off: the reader drops that
part and starts over at the new STX. A frame longer than max_size is
reported once as a FrameTooLargeError and skipped up to the next STX, so a
peer cannot make the reader buffer without bound.
"""

from msghub.connectors.emi.errors import FrameTooLargeError

DEFAULT_MAX_FRAME = 4096  # characters between STX and ETX
_STX = b"\x02"
_ETX = b"\x03"


class FrameReader:
    def __init__(self, max_size: int = DEFAULT_MAX_FRAME) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be positive, got {max_size}")
        self.max_size = max_size
        self.discarded = 0
        self._buf = bytearray()
        self._in_frame = False

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished frame held back for the next feed."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | FrameTooLargeError]:
        """Frames completed by data (without STX/ETX), in order, with an
        error in place of each frame that was too large."""
        out: list[bytes | FrameTooLargeError] = []
        pos = 0
        while pos < len(data):
            pos = self._read_body(data, pos, out) if self._in_frame else self._seek_start(data, pos)
        return out

    def _seek_start(self, data: bytes, pos: int) -> int:
        stx = data.find(_STX, pos)
        if stx < 0:
            self.discarded += len(data) - pos
            return len(data)
        self.discarded += stx - pos
        self._in_frame = True
        self._buf.clear()
        return stx + 1

    def _read_body(self, data: bytes, pos: int, out: list[bytes | FrameTooLargeError]) -> int:
        etx = data.find(_ETX, pos)
        stx = data.find(_STX, pos)
        if stx >= 0 and (etx < 0 or stx < etx):
            # A new frame starts before this one ended: this one is lost.
            self.discarded += 1 + len(self._buf) + (stx - pos)
            self._buf.clear()
            return stx + 1
        end = etx if etx >= 0 else len(data)
        # Take at most one byte past the limit: enough to know it is exceeded.
        self._buf += data[pos : min(end, pos + self.max_size + 1 - len(self._buf))]
        if len(self._buf) > self.max_size:
            out.append(
                FrameTooLargeError(
                    f"frame longer than {self.max_size} bytes skipped up to the next STX"
                )
            )
            self.discarded += 1 + len(self._buf)
            self._buf.clear()
            self._in_frame = False
            return end
        if etx < 0:
            return len(data)
        out.append(bytes(self._buf))
        self._buf.clear()
        self._in_frame = False
        return etx + 1
