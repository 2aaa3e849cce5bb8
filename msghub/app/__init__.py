"""The composition root: the CLI, the runtime and its roles (supervisor,
workers, scheduler), the demo. The only package that wires connectors,
rules and web together."""
