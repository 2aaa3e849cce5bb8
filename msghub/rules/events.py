"""The event types rules run for (hub.events.type allows exactly these)."""

EVENT_TYPES = (
    "message_received",
    "message_sent",
    "message_failed",
    "delivery_report",
    "connection_up",
    "connection_down",
    "data_imported",
    "schedule",
    "http_response",
    "quota_warning",
)
