"""The SMTP connection kind: sends e-mail through a mail server (RFC 5321)."""
