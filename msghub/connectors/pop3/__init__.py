"""The POP3 connection kind: fetches e-mail from a mailbox (RFC 1939), once per UIDL."""
