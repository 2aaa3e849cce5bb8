"""Reassembly of inbound concatenated SMS (3GPP TS 23.040 9.2.3.24.1).

Pure: the caller passes time in (Fragment.received_at, expire(now)), so the
same inputs always give the same output and tests need no clock.

Parts are grouped by (key, sender, ref, total); key is the caller's scope,
e.g. a connection id, because references are only unique per originator and
SMSC. Within a group:
- a part that arrives twice with the same text is ignored, also after its
  message was handed back (complete or partial): delivered groups are
  remembered for timeout_s, so an SMSC retransmission never yields a second
  copy or a spurious partial;
- a part that arrives again with *different* text means the 8-bit reference
  wrapped and a new message reuses it: an incomplete old group is handed
  back as partial and the new part starts a fresh group, so neither is lost;
- when every part is there the message is returned at once.
A single-part message (total == 1) is returned at once and never
deduplicated: without a UDH there is no reference to tell a copy from a new
message with the same text.

Timeout: a group expires when no *new* part has arrived for timeout_s
(duplicates do not extend it). expire(now) returns each expired group as a
Reassembled with partial=True and the missing part numbers, so missing parts
never turn into silence. A missing part that arrives after its group expired
starts a new group and surfaces later as another partial message. Call
expire() periodically: it also forgets delivered groups older than
timeout_s. expire(math.inf) flushes everything, e.g. on shutdown.
"""

from dataclasses import dataclass, field

from msghub.sms.errors import SmsDecodeError


@dataclass(frozen=True)
class Fragment:
    key: str
    sender: str
    ref: int
    total: int
    seq: int
    text: str
    received_at: float


@dataclass(frozen=True)
class Reassembled:
    key: str
    sender: str
    ref: int
    text: str  # parts present, joined in order; gaps are listed in missing
    parts_received: int
    total: int
    partial: bool
    missing: tuple[int, ...]
    received_at: float = 0.0  # when the first part arrived


GroupKey = tuple[str, str, int, int]


@dataclass
class _Group:
    first_at: float
    last_at: float
    parts: dict[int, str] = field(default_factory=dict)


def _validate(fragment: Fragment) -> None:
    if fragment.total < 1:
        raise SmsDecodeError(
            f"fragment from {fragment.sender!r} ref {fragment.ref}: total must be at least 1, "
            f"got {fragment.total}"
        )
    if not 1 <= fragment.seq <= fragment.total:
        raise SmsDecodeError(
            f"fragment from {fragment.sender!r} ref {fragment.ref}: part {fragment.seq} is "
            f"outside 1..{fragment.total}"
        )


def _result(gkey: GroupKey, group: _Group) -> Reassembled:
    key, sender, ref, total = gkey
    missing = tuple(n for n in range(1, total + 1) if n not in group.parts)
    return Reassembled(
        key=key,
        sender=sender,
        ref=ref,
        text="".join(group.parts[n] for n in sorted(group.parts)),
        parts_received=len(group.parts),
        total=total,
        partial=bool(missing),
        missing=missing,
        received_at=group.first_at,
    )


class Reassembler:
    """Collects concatenated parts until complete or timed out."""

    def __init__(self, timeout_s: float = 300) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.timeout_s = timeout_s
        self._groups: dict[GroupKey, _Group] = {}
        # Delivered groups: their parts and when they were handed back.
        self._delivered: dict[GroupKey, tuple[dict[int, str], float]] = {}

    def add(self, fragment: Fragment) -> Reassembled | None:
        """Store a part; return the message when complete, or the previous
        group as partial when this part reveals a reused reference."""
        _validate(fragment)
        gkey: GroupKey = (fragment.key, fragment.sender, fragment.ref, fragment.total)
        if fragment.total == 1:
            single = _Group(fragment.received_at, fragment.received_at, {1: fragment.text})
            return _result(gkey, single)
        if self._is_late_copy(gkey, fragment):
            return None
        displaced: Reassembled | None = None
        group = self._groups.get(gkey)
        if group is not None and fragment.seq in group.parts:
            if group.parts[fragment.seq] == fragment.text:
                return None  # a retransmission
            # The old message will get no more parts: hand it back, and
            # forget it for deduplication, since its ref now names the new one.
            displaced = _result(gkey, self._groups.pop(gkey))
            self._delivered.pop(gkey, None)
            group = None
        if group is None:
            group = self._groups[gkey] = _Group(fragment.received_at, fragment.received_at)
        group.parts[fragment.seq] = fragment.text
        group.first_at = min(group.first_at, fragment.received_at)
        group.last_at = max(group.last_at, fragment.received_at)
        if len(group.parts) == fragment.total:
            return self._deliver(gkey, fragment.received_at)
        return displaced

    def _is_late_copy(self, gkey: GroupKey, fragment: Fragment) -> bool:
        delivered = self._delivered.get(gkey)
        if delivered is None or fragment.seq not in delivered[0]:
            return False
        if delivered[0][fragment.seq] == fragment.text:
            return True
        del self._delivered[gkey]  # same ref, new text: a new message
        return False

    def _deliver(self, gkey: GroupKey, at: float) -> Reassembled:
        group = self._groups.pop(gkey)
        self._delivered[gkey] = (group.parts, at)
        return _result(gkey, group)

    def expire(self, now: float) -> list[Reassembled]:
        """Hand back, as partial, every group idle for timeout_s or longer."""
        self._delivered = {
            k: v for k, v in self._delivered.items() if now - v[1] < self.timeout_s
        }
        stale = [k for k, g in self._groups.items() if now - g.last_at >= self.timeout_s]
        stale.sort(key=lambda k: self._groups[k].first_at)
        # Stamped with when they expired, not now: expire(math.inf) must not
        # make them immortal.
        return [self._deliver(k, self._groups[k].last_at + self.timeout_s) for k in stale]

    def pending(self) -> int:
        """Number of incomplete messages being held."""
        return len(self._groups)
