"""The rule sandbox: run untrusted JavaScript rules in QuickJS, JSON in and out.

The sandbox knows nothing of the rule API. A caller gives it

- prelude: JS source defining the API (functions that record actions, e.g.
  into a global `__actions` array);
- source: the rule;
- input: a JSON object, visible to both as the global `input`;
- finish: a JS expression evaluated after the rule (and its promise jobs)
  that must give the JSON text of an object, e.g.
  `JSON.stringify({actions: __actions})`;

and gets back that object, or a RuleError saying what went wrong and where.
Each run gets a fresh context and its own Limits (memory, CPU time, stack).

    pool = SandboxPool(workers=2)            # worker processes, for the hub
    result = await pool.run(prelude, source, {"text": "hi"}, finish)
    pool.close()

    result = run_once(prelude, source, {"text": "hi"}, finish)   # in-process

See docs/RULES_SANDBOX.md for what a rule can and cannot reach.
"""

from msghub.rules.engine import Limits, run_once
from msghub.rules.errors import (
    RuleEngineCrashed,
    RuleError,
    RuleMemoryError,
    RuleScriptError,
    RuleStackOverflow,
    RuleTimeout,
)
from msghub.rules.pool import SandboxPool

__all__ = [
    "Limits",
    "RuleEngineCrashed",
    "RuleError",
    "RuleMemoryError",
    "RuleScriptError",
    "RuleStackOverflow",
    "RuleTimeout",
    "SandboxPool",
    "run_once",
]
