"""Errors of the AT command layer, and what a device's error codes mean.

+CME ERROR codes are 3GPP TS 27.007 section 9.2, +CMS ERROR codes TS 27.005
section 3.2.5 (0..127 are the network's RP causes of TS 24.011 E.2/E.3,
128..255 TP-FCS values of TS 23.040 9.2.3.22). A device answers with a number
(AT+CMEE=1) or the text (AT+CMEE=2), and some answer plain ERROR or a vendor
word (COMMAND NOT SUPPORT). Each code gets a short name (for logs, for a
failed message's code) and whether a submit refused with it should be tried
again later or failed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from msghub.errors import HubError


class AtError(HubError):
    """Something went wrong talking to a device."""


class AtTimeout(AtError):
    """The device did not finish its answer in time. written: the command
    (and its PDU) had been written, so the device may have acted on it."""

    def __init__(self, message: str, *, written: bool) -> None:
        super().__init__(message)
        self.written = written


class LinkDown(AtError):
    """The port closed or failed (unplugged, the serial server went away)."""

    def __init__(self, message: str, *, written: bool = False) -> None:
        super().__init__(message)
        self.written = written


@dataclass(frozen=True)
class Reason:
    code: int | None
    name: str
    text: str
    retry: bool  # a submit refused with it may succeed later


class AtCommandError(AtError):
    """The device answered a command with an error result."""

    def __init__(self, command: str, final: str, reason: Reason) -> None:
        where = f"{reason.code} " if reason.code is not None else ""
        super().__init__(f"{command}: {final} ({where}{reason.text})")
        self.command = command
        self.final = final
        self.reason = reason


# (code, name, text, retry). Texts as in the specifications, which is what
# devices print with AT+CMEE=2.
_CME: tuple[tuple[int, str, str, bool], ...] = (
    (0, "phone_failure", "phone failure", True),
    (1, "no_connection", "no connection to phone", True),
    (2, "link_reserved", "phone-adaptor link reserved", True),
    (3, "not_allowed", "operation not allowed", False),
    (4, "not_supported", "operation not supported", False),
    (5, "ph_sim_pin", "PH-SIM PIN required", False),
    (10, "sim_not_inserted", "SIM not inserted", False),
    (11, "sim_pin", "SIM PIN required", False),
    (12, "sim_puk", "SIM PUK required", False),
    (13, "sim_failure", "SIM failure", False),
    (14, "sim_busy", "SIM busy", True),
    (15, "sim_wrong", "SIM wrong", False),
    (16, "wrong_password", "incorrect password", False),
    (17, "sim_pin2", "SIM PIN2 required", False),
    (18, "sim_puk2", "SIM PUK2 required", False),
    (20, "memory_full", "memory full", True),
    (21, "invalid_index", "invalid index", False),
    (22, "not_found", "not found", False),
    (23, "memory_failure", "memory failure", True),
    (24, "text_too_long", "text string too long", False),
    (25, "invalid_text", "invalid characters in text string", False),
    (26, "dial_string_too_long", "dial string too long", False),
    (27, "invalid_dial_string", "invalid characters in dial string", False),
    (30, "no_network", "no network service", True),
    (31, "network_timeout", "network timeout", True),
    (32, "emergency_only", "network not allowed - emergency calls only", True),
    (100, "unknown", "unknown", True),
)

_CMS: tuple[tuple[int, str, str, bool], ...] = (
    (1, "unassigned_number", "unassigned (unallocated) number", False),
    (8, "operator_barring", "operator determined barring", False),
    (10, "call_barred", "call barred", False),
    (21, "transfer_rejected", "short message transfer rejected", False),
    (27, "destination_out_of_service", "destination out of service", True),
    (28, "unidentified_subscriber", "unidentified subscriber", False),
    (29, "facility_rejected", "facility rejected", False),
    (30, "unknown_subscriber", "unknown subscriber", False),
    (38, "network_out_of_order", "network out of order", True),
    (41, "temporary_failure", "temporary failure", True),
    (42, "congestion", "congestion", True),
    (47, "resources_unavailable", "resources unavailable, unspecified", True),
    (50, "not_subscribed", "requested facility not subscribed", False),
    (69, "not_implemented", "requested facility not implemented", False),
    (81, "invalid_reference", "invalid short message transfer reference value", True),
    (95, "invalid_message", "invalid message, unspecified", False),
    (96, "invalid_mandatory_info", "invalid mandatory information", False),
    (97, "message_type_unknown", "message type non-existent or not implemented", False),
    (98, "message_not_compatible", "message not compatible with short message protocol state", False),
    (99, "ie_unknown", "information element non-existent or not implemented", False),
    (111, "protocol_error", "protocol error, unspecified", True),
    (127, "interworking", "interworking, unspecified", True),
    (128, "telematic_not_supported", "telematic interworking not supported", False),
    (129, "sm_type0_not_supported", "short message type 0 not supported", False),
    (130, "cannot_replace", "cannot replace short message", False),
    (143, "pid_error", "unspecified TP-PID error", False),
    (144, "dcs_not_supported", "data coding scheme (alphabet) not supported", False),
    (145, "class_not_supported", "message class not supported", False),
    (159, "dcs_error", "unspecified TP-DCS error", False),
    (160, "command_not_actioned", "command cannot be actioned", False),
    (161, "command_unsupported", "command unsupported", False),
    (175, "command_error", "unspecified TP-Command error", False),
    (176, "tpdu_not_supported", "TPDU not supported", False),
    (192, "sc_busy", "SC busy", True),
    (193, "no_sc_subscription", "no SC subscription", False),
    (194, "sc_failure", "SC system failure", True),
    (195, "invalid_sme_address", "invalid SME address", False),
    (196, "destination_barred", "destination SME barred", False),
    (197, "duplicate_rejected", "SM rejected-duplicate SM", False),
    (198, "vpf_not_supported", "TP-VPF not supported", False),
    (199, "vp_not_supported", "TP-VP not supported", False),
    (208, "sim_storage_full", "SIM SMS storage full", True),
    (209, "no_sim_storage", "no SMS storage capability in SIM", False),
    (210, "ms_error", "error in MS", True),
    (211, "memory_exceeded", "memory capacity exceeded", True),
    (212, "sim_toolkit_busy", "SIM Application Toolkit busy", True),
    (213, "sim_download_error", "SIM data download error", True),
    (255, "unspecified", "unspecified error cause", True),
    (300, "me_failure", "ME failure", True),
    (301, "sms_reserved", "SMS service of ME reserved", True),
    (302, "not_allowed", "operation not allowed", False),
    (303, "not_supported", "operation not supported", False),
    (304, "invalid_pdu_parameter", "invalid PDU mode parameter", False),
    (305, "invalid_text_parameter", "invalid text mode parameter", False),
    (310, "sim_not_inserted", "SIM not inserted", False),
    (311, "sim_pin", "SIM PIN required", False),
    (312, "ph_sim_pin", "PH-SIM PIN required", False),
    (313, "sim_failure", "SIM failure", False),
    (314, "sim_busy", "SIM busy", True),
    (315, "sim_wrong", "SIM wrong", False),
    (316, "sim_puk", "SIM PUK required", False),
    (317, "sim_pin2", "SIM PIN2 required", False),
    (318, "sim_puk2", "SIM PUK2 required", False),
    (320, "memory_failure", "memory failure", True),
    (321, "invalid_index", "invalid memory index", False),
    (322, "memory_full", "memory full", True),
    (330, "smsc_unknown", "SMSC address unknown", False),
    (331, "no_network", "no network service", True),
    (332, "network_timeout", "network timeout", True),
    (340, "no_cnma_expected", "no +CNMA acknowledgement expected", False),
    (500, "unknown", "unknown error", True),
)


def _table(rows: tuple[tuple[int, str, str, bool], ...]) -> tuple[dict[int, Reason], dict[str, Reason]]:
    by_code = {code: Reason(code, name, text, retry) for code, name, text, retry in rows}
    by_text = {_norm(r.text): r for r in by_code.values()}
    return by_code, by_text


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace(",", " ").split())


CME_BY_CODE, CME_BY_TEXT = _table(_CME)
CMS_BY_CODE, CMS_BY_TEXT = _table(_CMS)

# Plain ERROR says nothing: a submit refused with it is tried again (the
# connection's max_attempts bounds that).
PLAIN_ERROR = Reason(None, "error", "the device said ERROR without a reason", True)
# Words some devices use instead of ERROR (Huawei, ZTE, some Siemens).
VENDOR_WORDS: dict[str, Reason] = {
    "COMMAND NOT SUPPORT": Reason(None, "not_supported", "command not supported (vendor word)", False),
    "TOO MANY PARAMETERS": Reason(None, "too_many_parameters", "too many parameters (vendor word)", False),
    "NO CARRIER": Reason(None, "no_carrier", "no carrier", True),
    "NO DIALTONE": Reason(None, "no_dialtone", "no dialtone", True),
    "BUSY": Reason(None, "busy", "busy", True),
    "NO ANSWER": Reason(None, "no_answer", "no answer", True),
}


def reason_for(final: str) -> Reason:
    """The reason behind an error final result line (never raises)."""
    for prefix, by_code, by_text, family in (("+CME ERROR:", CME_BY_CODE, CME_BY_TEXT, "cme"),
                                             ("+CMS ERROR:", CMS_BY_CODE, CMS_BY_TEXT, "cms")):
        if final.upper().startswith(prefix):
            detail = final[len(prefix):].strip()
            if detail.isascii() and detail.isdigit():
                code = int(detail)
                return by_code.get(code, Reason(code, f"{family}_{code}", f"{family.upper()} error {code}", True))
            known = by_text.get(_norm(detail))
            if known is not None:
                return known
            return Reason(None, f"{family}_text", detail or "no text", True)
    return VENDOR_WORDS.get(final.strip().upper(), PLAIN_ERROR)
