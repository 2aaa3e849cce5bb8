"""The counters only a process knows (docs/OPERATIONS.md, "Metrics").

What the database knows (queues, messages by status, failures, delivery
reports, nodes, connection states) is read from it at each scrape by the web
role's /metrics (msghub/web/pages/ops.py), so every node reports the same
truth. These in-process counters cover the rest: they live in the default
prometheus_client registry of the process that counts them.
"""

from __future__ import annotations

from prometheus_client import Counter

RULE_RUNS = Counter("msghub_rule_runs", "rule runs by this process, by rule", ["rule"])
RULE_FAILURES = Counter("msghub_rule_failures", "rule runs by this process that failed, by rule", ["rule"])
SANDBOX_RESTARTS = Counter("msghub_sandbox_restarts", "rule sandbox worker processes started again after one died")
