"""Any frame to its typed message and back, with every field's format checked."""

from msghub.connectors.emi.errors import FrameSyntaxError, UcpError, UnknownOperationError
from msghub.connectors.emi.fields import check_fields
from msghub.connectors.emi.frame import Frame, decode_frame, encode_frame
from msghub.connectors.emi.operations import (
    Alert,
    CallInput,
    ListManagement,
    Operation,
    SessionLogin,
    SmsMessageTransfer,
)
from msghub.connectors.emi.results import Ack, Nack
from msghub.connectors.emi.short_message import (
    DeleteMessage,
    DeliverSM,
    DeliveryNotification,
    InquiryMessage,
    ModifyMessage,
    ResponseDeleteMessage,
    ResponseInquiryMessage,
    SubmitSM,
)

Message = Operation | Ack | Nack

OPERATION_CLASSES: dict[str, type[Operation]] = {
    cls.OT: cls
    for cls in (
        CallInput,
        SmsMessageTransfer,
        Alert,
        SubmitSM,
        DeliverSM,
        DeliveryNotification,
        ModifyMessage,
        InquiryMessage,
        DeleteMessage,
        ResponseInquiryMessage,
        ResponseDeleteMessage,
        SessionLogin,
        ListManagement,
    )
}


def _typed(frame: Frame) -> Message:
    if frame.kind == "R":
        return Ack.from_frame(frame) if frame.positive else Nack.from_frame(frame)
    cls = OPERATION_CLASSES.get(frame.ot)
    if cls is None:
        raise UnknownOperationError(f"operation type {frame.ot} is not supported")
    return cls.from_frame(frame)


def from_frame(frame: Frame) -> Message:
    """The typed view of a frame, with every field's format checked."""
    try:
        message = _typed(frame)
        check_fields(message.values())
    except UcpError as exc:
        exc.trn, exc.kind, exc.ot = frame.trn, frame.kind, frame.ot
        raise
    except IndexError:
        raise FrameSyntaxError(
            "too few fields", trn=frame.trn, kind=frame.kind, ot=frame.ot
        ) from None
    return message


def decode_message(data: bytes | bytearray | str) -> Message:
    """decode_frame, then the typed view; raises a UcpError."""
    return from_frame(decode_frame(data))


def encode_message(message: Message | Frame) -> bytes:
    """The bytes of a typed message or frame, without STX/ETX."""
    frame = message if isinstance(message, Frame) else message.to_frame()
    return encode_frame(frame)
