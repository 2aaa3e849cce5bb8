"""The MMS encapsulation codec (OMA MMS Encapsulation 1.0-1.3 over WAP WSP
encodings) as pure functions: bytes in, typed dataclasses out, and back.

    decode_pdu(data) -> SendReq | SendConf | NotificationInd | ...
    encode_pdu(pdu) -> bytes
    decode_multipart / encode_multipart for WSP multipart bodies

Every failure is an MmsError (a msghub CodecError).
"""

from msghub.mms.content import ContentType, Part, decode_multipart, encode_multipart
from msghub.mms.errors import MmsError
from msghub.mms.headers import INSERT_ADDRESS, InsertAddress
from msghub.mms.pdu import (
    AcknowledgeInd,
    DeliveryInd,
    NotificationInd,
    NotifyRespInd,
    Pdu,
    ReadOrigInd,
    ReadRecInd,
    RetrieveConf,
    SendConf,
    SendReq,
    decode_pdu,
    encode_pdu,
)

__all__ = [
    "INSERT_ADDRESS",
    "AcknowledgeInd",
    "ContentType",
    "DeliveryInd",
    "InsertAddress",
    "MmsError",
    "NotificationInd",
    "NotifyRespInd",
    "Part",
    "Pdu",
    "ReadOrigInd",
    "ReadRecInd",
    "RetrieveConf",
    "SendConf",
    "SendReq",
    "decode_multipart",
    "decode_pdu",
    "encode_multipart",
    "encode_pdu",
]
