"""The MMS codec's one error."""

from msghub.errors import CodecError


class MmsError(CodecError):
    """An MMS PDU, a WSP value or a multipart body could not be decoded or encoded.

    The message names what was expected and the byte offset where decoding stopped.
    """
