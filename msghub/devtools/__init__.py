"""Development tools: benchmarks, simulators, generators; not part of the product's import graph."""
