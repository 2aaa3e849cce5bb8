"""Development tools: simulators of the far side and benchmarks.

Nothing here runs inside a connector; tests, benchmarks and demos start
these to have a peer that behaves like a real device or operator.
"""
