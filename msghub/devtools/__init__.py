"""Development tools: simulators of the far side and benchmarks (not part of the product's import graph)."""
