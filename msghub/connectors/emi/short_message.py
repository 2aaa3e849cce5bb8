"""The 50 series (51-58): one list of 33 fields, typed views of its values."""

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, IntFlag
from typing import ClassVar

from msghub.connectors.emi.errors import FieldError
from msghub.connectors.emi.fields import FIELDS_5X
from msghub.connectors.emi.operations import (
    OTOA_ALPHANUMERIC,
    OTOA_INTERNATIONAL,
    Operation,
    message_octets,
    message_text,
)
from msghub.connectors.emi.values import decode_alphanumeric_address, parse_time, show, to_int
from msghub.connectors.emi.xser import XSER_DCS, XSER_UDH, XSerItem, parse_xser, xser_value


class Notify(IntFlag):
    """NT: which delivery notifications to send (EMI numbering, not 03.39)."""

    DELIVERED = 1
    NON_DELIVERED = 2
    BUFFERED = 4


class DeliveryStatus(IntEnum):
    """Dst of a delivery notification (53)."""

    DELIVERED = 0
    BUFFERED = 1
    NOT_DELIVERED = 2


@dataclass(frozen=True, kw_only=True)
class ShortMessageOperation(Operation):
    """The 50 series (51-58): one list of 33 fields."""

    FIELDS: ClassVar[tuple[str, ...]] = FIELDS_5X

    adc: str = ""
    oadc: str = ""
    ac: str = ""
    nrq: str = ""
    nadc: str = ""
    nt: str = ""
    npid: str = ""
    lrq: str = ""
    lrad: str = ""
    lpid: str = ""
    dd: str = ""
    ddt: str = ""
    vp: str = ""
    rpid: str = ""
    scts: str = ""
    dst: str = ""
    rsn: str = ""
    dscts: str = ""
    mt: str = ""
    nb: str = ""
    msg: str = ""
    mms: str = ""
    pr: str = ""
    dcs: str = ""
    mcls: str = ""
    rpi: str = ""
    cpg: str = ""
    rply: str = ""
    otoa: str = ""
    hplmn: str = ""
    xser: str = ""
    res4: str = ""
    res5: str = ""

    @property
    def xser_items(self) -> tuple[XSerItem, ...]:
        return parse_xser(self.xser)

    @property
    def udh(self) -> bytes | None:
        """The user data header from XSer 01, including its UDHL octet."""
        return xser_value(self.xser_items, XSER_UDH)

    @property
    def xser_dcs(self) -> int | None:
        """The DCS from XSer 02, if the frame carries one."""
        value = xser_value(self.xser_items, XSER_DCS)
        if value is None:
            return None
        if len(value) != 1:
            raise FieldError("XSer", f"DCS service holds {len(value)} octets, not 1")
        return value[0]

    @property
    def data_coding(self) -> int:
        """The effective DCS: XSer 02, else built from the older DCs and
        MCLs fields (DCs 1 = 8-bit; MT 4 without either means 8-bit)."""
        dcs = self.xser_dcs
        if dcs is not None:
            return dcs
        eight_bit = self.dcs == "1" or (self.mt == "4" and not self.dcs)
        alphabet = 0x04 if eight_bit else 0x00
        if self.mcls in ("0", "1", "2", "3"):
            return 0x10 | alphabet | int(self.mcls)
        return alphabet

    @property
    def user_data(self) -> bytes:
        """The message octets: GSM codes for MT 3, TMsg for MT 4."""
        return message_octets(self.mt, self.msg)

    @property
    def text(self) -> str | None:
        """The message as text; None for binary (8-bit) data or no MT."""
        return message_text(self.mt, self.msg, self.nb, self.data_coding)

    @property
    def sender(self) -> str:
        """OAdC decoded: alphanumeric for OTOA 5039, '+' prefixed for 1139."""
        if self.otoa == OTOA_ALPHANUMERIC and self.oadc:
            return decode_alphanumeric_address(self.oadc)
        if self.otoa == OTOA_INTERNATIONAL and self.oadc:
            return "+" + self.oadc
        return self.oadc

    @property
    def notification_requested(self) -> bool:
        return self.nrq == "1"

    @property
    def notification_types(self) -> Notify | None:
        """NT as flags; None when no notification is requested."""
        if not self.notification_requested:
            return None
        return Notify(to_int(self.nt, "NT") & 0x07) if self.nt else None

    @property
    def scts_time(self) -> datetime | None:
        return parse_time(self.scts, "SCTS")

    @property
    def dscts_time(self) -> datetime | None:
        return parse_time(self.dscts, "DSCTS")

    @property
    def validity_time(self) -> datetime | None:
        return parse_time(self.vp, "VP")

    @property
    def deferred_time(self) -> datetime | None:
        return parse_time(self.ddt, "DDT") if self.dd == "1" else None


@dataclass(frozen=True, kw_only=True)
class SubmitSM(ShortMessageOperation):
    """51: submit a short message (ESME to SMSC)."""

    OT: ClassVar[str] = "51"


@dataclass(frozen=True, kw_only=True)
class DeliverSM(ShortMessageOperation):
    """52: deliver a short message (SMSC to ESME, mobile originated)."""

    OT: ClassVar[str] = "52"


@dataclass(frozen=True, kw_only=True)
class DeliveryNotification(ShortMessageOperation):
    """53: delivery report; OAdC and SCTS name the original submission."""

    OT: ClassVar[str] = "53"

    @property
    def status(self) -> DeliveryStatus:
        try:
            return DeliveryStatus(to_int(self.dst, "Dst"))
        except ValueError:
            raise FieldError("Dst", f"{show(self.dst)} is not 0, 1 or 2") from None

    @property
    def reason(self) -> int | None:
        return to_int(self.rsn, "Rsn") if self.rsn else None

    @property
    def submit_reference(self) -> tuple[str, str]:
        """(recipient, SCTS) as the positive result to 51 gave them."""
        return self.oadc, self.scts


@dataclass(frozen=True, kw_only=True)
class ModifyMessage(ShortMessageOperation):
    OT: ClassVar[str] = "54"


@dataclass(frozen=True, kw_only=True)
class InquiryMessage(ShortMessageOperation):
    OT: ClassVar[str] = "55"


@dataclass(frozen=True, kw_only=True)
class DeleteMessage(ShortMessageOperation):
    OT: ClassVar[str] = "56"


@dataclass(frozen=True, kw_only=True)
class ResponseInquiryMessage(ShortMessageOperation):
    OT: ClassVar[str] = "57"


@dataclass(frozen=True, kw_only=True)
class ResponseDeleteMessage(ShortMessageOperation):
    OT: ClassVar[str] = "58"
