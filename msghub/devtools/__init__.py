"""Development tools: benchmarks (commands that print JSON) and simulators
of the far side (the SMSC, the MMSC and GSM modems). Installed, so `msghub bench`
and `msghub simulate` work, but no product module imports them.

Nothing here runs inside a connector; tests, benchmarks and demos start
the simulators to have a peer that behaves like a real device or operator.
"""
