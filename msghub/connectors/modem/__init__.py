"""GSM modems and data cards over AT commands (3GPP TS 27.007 / 27.005).

transport.py  byte links: serial port (pyserial) or TCP
lines.py      line splitting and result-code classification (pure)
errors.py     +CME/+CMS ERROR codes and vendor words, named, retry or fail
channel.py    one command at a time, URCs apart, prompts, timeouts
"""
