"""Message storage of the simulated device: memories ("SM" on the SIM, "ME"
in the phone, "SR" for status reports) with numbered slots, as +CPMS,
+CMGR, +CMGL and +CMGD see them (3GPP TS 27.005 3.1, 3.4)."""

from __future__ import annotations

from dataclasses import dataclass

# <stat> values in PDU mode and their text-mode names (TS 27.005 3.1)
REC_UNREAD, REC_READ, STO_UNSENT, STO_SENT, ALL = 0, 1, 2, 3, 4
STAT_TEXT = {REC_UNREAD: "REC UNREAD", REC_READ: "REC READ", STO_UNSENT: "STO UNSENT", STO_SENT: "STO SENT",
             ALL: "ALL"}
TEXT_STAT = {v: k for k, v in STAT_TEXT.items()}


@dataclass
class Stored:
    stat: int
    pdu: str  # upper-case hex with the SMSC field
    tpdu_len: int  # octets without the SMSC field, as +CMGR prints it
    kind: str  # "deliver" | "status_report" | "submit"


class MemoryFull(Exception):
    pass


class Memory:
    def __init__(self, name: str, capacity: int, first_index: int) -> None:
        self.name = name
        self.capacity = capacity
        self.first_index = first_index
        self.slots: dict[int, Stored] = {}

    @property
    def used(self) -> int:
        return len(self.slots)

    def store(self, item: Stored) -> int:
        for index in range(self.first_index, self.first_index + self.capacity):
            if index not in self.slots:
                self.slots[index] = item
                return index
        raise MemoryFull(self.name)

    def valid_index(self, index: int) -> bool:
        return self.first_index <= index < self.first_index + self.capacity

    def listing(self, stat: int) -> list[tuple[int, Stored]]:
        return [(i, s) for i, s in sorted(self.slots.items()) if stat == ALL or s.stat == stat]

    def delete_flagged(self, flag: int) -> None:
        """+CMGD=<index>,<delflag> with delflag 1..4 (TS 27.005 3.5.4)."""
        drop = {1: {REC_READ}, 2: {REC_READ, STO_SENT}, 3: {REC_READ, STO_SENT, STO_UNSENT},
                4: {REC_UNREAD, REC_READ, STO_SENT, STO_UNSENT}}[flag]
        for index in [i for i, s in self.slots.items() if s.stat in drop]:
            del self.slots[index]


class Storage:
    def __init__(self, capacity: dict[str, int], first_index: int) -> None:
        self.memories = {name: Memory(name, size, first_index) for name, size in capacity.items()}
        # "MT" is SM and ME together on real devices; here it is SM's view.
        if "SM" in self.memories:
            self.memories.setdefault("MT", self.memories["SM"])

    def get(self, name: str) -> Memory | None:
        return self.memories.get(name)
