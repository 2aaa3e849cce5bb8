"""Services: one home for each use case (connections, users, groups and
memberships, audit). Async; the CLI calls them through a thin sync wrapper
(blocking.py), the web pages directly."""
