"""Results: Ack (positive) and Nack (negative) for every operation type."""

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from msghub.connectors.emi.ec import describe_ec, is_permanent_error
from msghub.connectors.emi.errors import FieldError
from msghub.connectors.emi.fields import result_fields
from msghub.connectors.emi.frame import Frame
from msghub.connectors.emi.values import parse_time, split_adc_scts


@dataclass(frozen=True, kw_only=True)
class Ack:
    """Positive result; MVP exists only for 30 and the 50 series."""

    ot: str
    trn: int = 0
    mvp: str = ""
    sm: str = ""
    extra: tuple[str, ...] = ()

    @classmethod
    def from_frame(cls, frame: Frame) -> Self:
        names = result_fields(frame.ot, True)
        named = dict(zip(names, frame.fields, strict=False))
        return cls(
            ot=frame.ot,
            trn=frame.trn,
            mvp=named.get("MVP", ""),
            sm=named.get("SM", ""),
            extra=frame.fields[len(names) :],
        )

    def values(self) -> dict[str, str]:
        names = result_fields(self.ot, True)
        if "MVP" not in names and self.mvp:
            raise FieldError("MVP", f"a result to operation {self.ot} has no MVP")
        all_values = {"ACK": "A", "MVP": self.mvp, "SM": self.sm}
        return {name: all_values[name] for name in names}

    def to_frame(self) -> Frame:
        return Frame(self.trn, "R", self.ot, tuple(self.values().values()) + self.extra)

    @property
    def submit_reference(self) -> tuple[str, str] | None:
        """(AdC, SCTS) from an SM of the form 'AdC:SCTS', as 51 answers."""
        return split_adc_scts(self.sm)

    @property
    def mvp_time(self) -> datetime | None:
        return parse_time(self.mvp, "MVP")


@dataclass(frozen=True, kw_only=True)
class Nack:
    """Negative result: EC says why, SM may add text."""

    ot: str
    ec: str
    trn: int = 0
    sm: str = ""
    extra: tuple[str, ...] = ()

    @classmethod
    def from_frame(cls, frame: Frame) -> Self:
        return cls(
            ot=frame.ot,
            trn=frame.trn,
            ec=frame.fields[1],
            sm=frame.fields[2],
            extra=frame.fields[3:],
        )

    def values(self) -> dict[str, str]:
        return {"NACK": "N", "EC": self.ec, "SM": self.sm}

    def to_frame(self) -> Frame:
        return Frame(self.trn, "R", self.ot, tuple(self.values().values()) + self.extra)

    @property
    def description(self) -> str:
        return describe_ec(self.ec)

    @property
    def permanent(self) -> bool:
        return is_permanent_error(self.ec)
