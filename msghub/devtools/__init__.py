"""Development tools: benchmarks, simulators and test peers, kept out of the product's import graph."""
