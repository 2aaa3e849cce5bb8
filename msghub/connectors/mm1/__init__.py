"""MM1: MMS through a device, as a phone's MMS client does it (the modem kind
turns it on with its mms_* settings). WAP push SMS in, HTTP to the MMSC out."""
