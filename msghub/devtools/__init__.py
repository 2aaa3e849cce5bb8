"""Development tools: benchmarks (commands that print JSON) and simulators
of the far side. Installed, so `msghub bench` and `msghub simulate` work,
but no product module imports them."""
