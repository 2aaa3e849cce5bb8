"""msghub's settings, all read from the environment (docs/OPERATIONS.md).

Each setting is declared once here with its type, default and meaning; a test
fails when one is missing from the documentation.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from msghub.errors import ConfigError


@dataclass(frozen=True)
class EnvSetting:
    name: str
    default: str | None
    help: str


ENV_SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting("MSGHUB_DATABASE_URL", None,
               "PostgreSQL URL (13 or newer). Unset: an embedded server under MSGHUB_DATA_DIR."),
    EnvSetting("MSGHUB_DATA_DIR", "./var", "where the embedded PostgreSQL and other state live"),
    EnvSetting("MSGHUB_HTTP_HOST", "127.0.0.1", "address the web server listens on"),
    EnvSetting("MSGHUB_HTTP_PORT", "8080", "port the web server listens on"),
    EnvSetting("MSGHUB_NODE_NAME", None, "this hub node's name; default host name and process id"),
    EnvSetting("MSGHUB_NODE_SITE", None,
               "the site (server, room, office) this node belongs to; connections pinned to a site run only there"),
    EnvSetting("MSGHUB_ADMIN_PASSWORD", None,
               "password of the first admin account; unset: a random one is printed once"),
    EnvSetting("MSGHUB_POLL_INTERVAL_S", "1.0",
               "how often workers look for work without a NOTIFY wake-up, in seconds"),
    EnvSetting("MSGHUB_RULE_WORKERS", "2", "rule engine worker processes (each runs one rule at a time)"),
    EnvSetting("MSGHUB_RULE_MEMORY_MB", "16", "memory limit of one rule run, in MiB"),
    EnvSetting("MSGHUB_RULE_CPU_MS", "50", "CPU-time limit of one rule run, in milliseconds"),
    EnvSetting("MSGHUB_RULE_HTTP_PRIVATE", "0",
               "1 lets rules' http.request() reach private, loopback and link-local addresses"),
    EnvSetting("MSGHUB_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    EnvSetting("MSGHUB_LOG_FORMAT", "text", "text, or json: one JSON object per line with message and connection ids"),
    EnvSetting("MSGHUB_SECURE_COOKIES", "0", "1 to mark session cookies Secure (serve over HTTPS)"),
)


def _env(name: str) -> str | None:
    for setting in ENV_SETTINGS:
        if setting.name == name:
            value = os.environ.get(name)
            return value if value not in (None, "") else setting.default
    raise KeyError(name)


def _number(name: str, kind: type[int] | type[float]) -> int | float:
    raw = _env(name)
    try:
        return kind(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        what = "whole number" if kind is int else "number"
        raise ConfigError(f"{name}={raw!r} is not a {what}") from None


@dataclass(frozen=True)
class Config:
    database_url: str | None
    data_dir: Path
    http_host: str
    http_port: int
    node_name: str
    admin_password: str | None
    poll_interval_s: float
    log_level: str
    secure_cookies: bool
    rule_workers: int = 2
    rule_memory_mb: int = 16
    rule_cpu_ms: int = 50
    rule_http_private: bool = False
    log_format: str = "text"
    node_site: str | None = None

    @classmethod
    def from_env(cls) -> Config:
        level = (_env("MSGHUB_LOG_LEVEL") or "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"MSGHUB_LOG_LEVEL={level!r}: use DEBUG, INFO, WARNING or ERROR")
        log_format = (_env("MSGHUB_LOG_FORMAT") or "text").lower()
        if log_format not in ("text", "json"):
            raise ConfigError(f"MSGHUB_LOG_FORMAT={log_format!r}: use text or json")
        port = int(_number("MSGHUB_HTTP_PORT", int))
        if not 0 <= port <= 65535:
            raise ConfigError(f"MSGHUB_HTTP_PORT={port} is not a TCP port")
        poll = float(_number("MSGHUB_POLL_INTERVAL_S", float))
        if not 0.05 <= poll <= 60:
            raise ConfigError(f"MSGHUB_POLL_INTERVAL_S={poll} must be between 0.05 and 60")
        rule_workers = int(_number("MSGHUB_RULE_WORKERS", int))
        if not 1 <= rule_workers <= 64:
            raise ConfigError(f"MSGHUB_RULE_WORKERS={rule_workers} must be between 1 and 64")
        rule_memory_mb = int(_number("MSGHUB_RULE_MEMORY_MB", int))
        if not 1 <= rule_memory_mb <= 4096:
            raise ConfigError(f"MSGHUB_RULE_MEMORY_MB={rule_memory_mb} must be between 1 and 4096")
        rule_cpu_ms = int(_number("MSGHUB_RULE_CPU_MS", int))
        if not 1 <= rule_cpu_ms <= 60000:
            raise ConfigError(f"MSGHUB_RULE_CPU_MS={rule_cpu_ms} must be between 1 and 60000")
        return cls(
            database_url=_env("MSGHUB_DATABASE_URL"),
            data_dir=Path(_env("MSGHUB_DATA_DIR") or "./var").resolve(),
            http_host=_env("MSGHUB_HTTP_HOST") or "127.0.0.1",
            http_port=port,
            node_name=_env("MSGHUB_NODE_NAME") or f"{socket.gethostname()}-{os.getpid()}",
            admin_password=_env("MSGHUB_ADMIN_PASSWORD"),
            poll_interval_s=poll,
            log_level=level,
            secure_cookies=_env("MSGHUB_SECURE_COOKIES") == "1",
            rule_workers=rule_workers,
            rule_memory_mb=rule_memory_mb,
            rule_cpu_ms=rule_cpu_ms,
            rule_http_private=_env("MSGHUB_RULE_HTTP_PRIVATE") == "1",
            log_format=log_format,
            node_site=_env("MSGHUB_NODE_SITE"),
        )
