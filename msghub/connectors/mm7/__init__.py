"""MM7 (3GPP TS 23.140): the hub as a VASP talking SOAP 1.1 with attachments
over HTTP to an operator's MMSC.

soap.py builds and parses the SOAP envelopes (pure functions), mime.py the
multipart/related bodies around them, status.py maps status codes to retry
or permanent failure, connector.py sends, inbound.py receives on the web app.
"""
