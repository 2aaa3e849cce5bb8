"""WAP-230-WSP assigned numbers (tables 38-40, 42) and MMS header codes.

Facts from WAP-230-WSP-20010705-a appendix A and OMA-TS-MMS_ENC-V1_3 section 7.4.
"""

from __future__ import annotations

# Table 40, well-known content types, by assigned number (index).
CONTENT_TYPES: tuple[str, ...] = (
    "*/*", "text/*", "text/html", "text/plain", "text/x-hdml", "text/x-ttml", "text/x-vCalendar",
    "text/x-vCard", "text/vnd.wap.wml", "text/vnd.wap.wmlscript", "text/vnd.wap.wta-event",
    "multipart/*", "multipart/mixed", "multipart/form-data", "multipart/byterantes", "multipart/alternative",
    "application/*", "application/java-vm", "application/x-www-form-urlencoded", "application/x-hdmlc",
    "application/vnd.wap.wmlc", "application/vnd.wap.wmlscriptc", "application/vnd.wap.wta-eventc",
    "application/vnd.wap.uaprof", "application/vnd.wap.wtls-ca-certificate",
    "application/vnd.wap.wtls-user-certificate", "application/x-x509-ca-cert", "application/x-x509-user-cert",
    "image/*", "image/gif", "image/jpeg", "image/tiff", "image/png", "image/vnd.wap.wbmp",
    "application/vnd.wap.multipart.*", "application/vnd.wap.multipart.mixed",
    "application/vnd.wap.multipart.form-data", "application/vnd.wap.multipart.byteranges",
    "application/vnd.wap.multipart.alternative", "application/xml", "text/xml", "application/vnd.wap.wbxml",
    "application/x-x968-cross-cert", "application/x-x968-ca-cert", "application/x-x968-user-cert",
    "text/vnd.wap.si", "application/vnd.wap.sic", "text/vnd.wap.sl", "application/vnd.wap.slc",
    "text/vnd.wap.co", "application/vnd.wap.coc", "application/vnd.wap.multipart.related",
    "application/vnd.wap.sia", "text/vnd.wap.connectivity-xml", "application/vnd.wap.connectivity-wbxml",
    "application/pkcs7-mime", "application/vnd.wap.hashed-certificate", "application/vnd.wap.signed-certificate",
    "application/vnd.wap.cert-response", "application/xhtml+xml", "application/wml+xml", "text/css",
    "application/vnd.wap.mms-message", "application/vnd.wap.rollover-certificate",
    "application/vnd.wap.locc+wbxml", "application/vnd.wap.loc+xml", "application/vnd.syncml.dm+wbxml",
    "application/vnd.syncml.dm+xml", "application/vnd.syncml.notification", "application/vnd.wap.xhtml+xml",
    "application/vnd.wv.csp.cir", "application/vnd.oma.dd+xml", "application/vnd.oma.drm.message",
    "application/vnd.oma.drm.content", "application/vnd.oma.drm.rights+xml",
    "application/vnd.oma.drm.rights+wbxml",
)  # fmt: skip
CONTENT_TYPE_CODES: dict[str, int] = {name.lower(): code for code, name in enumerate(CONTENT_TYPES)}

# Table 42 (IANA MIBenum) -> (preferred name, Python codec).
CHARSETS: dict[int, tuple[str, str]] = {
    3: ("us-ascii", "ascii"),
    4: ("iso-8859-1", "latin-1"),
    5: ("iso-8859-2", "iso8859-2"),
    6: ("iso-8859-3", "iso8859-3"),
    7: ("iso-8859-4", "iso8859-4"),
    8: ("iso-8859-5", "iso8859-5"),
    9: ("iso-8859-6", "iso8859-6"),
    10: ("iso-8859-7", "iso8859-7"),
    11: ("iso-8859-8", "iso8859-8"),
    12: ("iso-8859-9", "iso8859-9"),
    17: ("shift_JIS", "shift_jis"),
    106: ("utf-8", "utf-8"),
    1000: ("iso-10646-ucs-2", "utf-16"),
    1015: ("utf-16", "utf-16"),
    2025: ("gb2312", "gb2312"),
    2026: ("big5", "big5"),
    2252: ("windows-1252", "cp1252"),
}
CHARSET_CODES: dict[str, int] = {name.lower(): code for code, (name, _) in CHARSETS.items()}
ANY_CHARSET = 0  # Any-charset is octet 128, i.e. short-integer 0: "*"

# Table 38, well-known parameters: code -> (name, value kind). Both the 1.1-1.3
# (text-string) and the 1.4 (text-value) codes of Name, Filename, Start are read.
PARAMETERS: dict[int, tuple[str, str]] = {
    0x00: ("Q", "q"),
    0x01: ("Charset", "charset"),
    0x02: ("Level", "version"),
    0x03: ("Type", "integer"),
    0x05: ("Name", "text"),
    0x06: ("Filename", "text"),
    0x07: ("Differences", "field"),
    0x08: ("Padding", "short"),
    0x09: ("Type", "constrained"),
    0x0A: ("Start", "text"),
    0x0B: ("Start-info", "text"),
    0x0C: ("Comment", "text"),
    0x0D: ("Domain", "text"),
    0x0E: ("Max-Age", "integer"),
    0x0F: ("Path", "text"),
    0x10: ("Secure", "none"),
    0x11: ("SEC", "short"),
    0x12: ("MAC", "text_value"),
    0x13: ("Creation-date", "date"),
    0x14: ("Modification-date", "date"),
    0x15: ("Read-date", "date"),
    0x16: ("Size", "integer"),
    0x17: ("Name", "text_value"),
    0x18: ("Filename", "text_value"),
    0x19: ("Start", "text_value"),
    0x1A: ("Start-info", "text_value"),
    0x1B: ("Comment", "text_value"),
    0x1C: ("Domain", "text_value"),
    0x1D: ("Path", "text_value"),
}
# The codes written: the 1.1-1.2 ones, which every MMS client reads.
PARAMETER_CODES: dict[str, int] = {
    "charset": 0x01, "type": 0x09, "name": 0x05, "filename": 0x06, "start": 0x0A, "start-info": 0x0B,
}  # fmt: skip

# Table 39, well-known header field names (encoding versions 1.1 to 1.4).
HEADER_FIELDS: tuple[str, ...] = (
    "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Age", "Allow",
    "Authorization", "Cache-Control", "Connection", "Content-Base", "Content-Encoding", "Content-Language",
    "Content-Length", "Content-Location", "Content-MD5", "Content-Range", "Content-Type", "Date", "Etag",
    "Expires", "From", "Host", "If-Modified-Since", "If-Match", "If-None-Match", "If-Range",
    "If-Unmodified-Since", "Location", "Last-Modified", "Max-Forwards", "Pragma", "Proxy-Authenticate",
    "Proxy-Authorization", "Public", "Range", "Referer", "Retry-After", "Server", "Transfer-Encoding",
    "Upgrade", "User-Agent", "Vary", "Via", "Warning", "WWW-Authenticate", "Content-Disposition",
    "X-Wap-Application-Id", "X-Wap-Content-URI", "X-Wap-Initiator-URI", "Accept-Application",
    "Bearer-Indication", "Push-Flag", "Profile", "Profile-Diff", "Profile-Warning", "Expect", "TE", "Trailer",
    "Accept-Charset", "Accept-Encoding", "Cache-Control", "Content-Range", "X-Wap-Tod", "Content-ID",
    "Set-Cookie", "Cookie", "Encoding-Version", "Profile-Warning", "Content-Disposition", "X-WAP-Security",
    "Cache-Control",
)  # fmt: skip
FIELD_CONTENT_LOCATION = 0x0E
FIELD_DATE = 0x12
FIELD_CONTENT_DISPOSITION = 0x2E
FIELD_CONTENT_DISPOSITION_14 = 0x45
FIELD_CONTENT_ID = 0x40

DISPOSITIONS: dict[int, str] = {0: "form-data", 1: "attachment", 2: "inline"}
