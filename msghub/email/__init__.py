"""E-mail in and out: pure MIME codecs (bytes in, typed values out, and back).

parse.py reads a received mail, build.py writes an outbound one, dsn.py reads
bounces and delivery status notifications, sanitize.py makes HTML safe to
show; none of them opens a socket or touches the database. port.py declares
what the connectors ask of the hub (msghub/services/email_link.py answers it
from the database). `msghub email check` is msghub/app/email_cli.py, `msghub
bench email` msghub/devtools/bench_email.py.
"""
