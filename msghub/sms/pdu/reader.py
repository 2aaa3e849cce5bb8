"""A cursor over the octets of one PDU: every error names the octet offset."""

from msghub.sms.pdu.model import PduError


class Reader:
    """Octets of one PDU with a cursor; every error names the octet offset."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.pos = offset
        self.notes: list[str] = []  # what was tolerated, for the message's notes

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise PduError(
                f"PDU ends at octet {len(self.data)} inside {what} "
                f"(needs {n} octet{'' if n == 1 else 's'} from octet {self.pos})"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def octet(self, what: str) -> int:
        return self.take(1, what)[0]
