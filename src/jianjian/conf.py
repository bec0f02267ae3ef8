"""Typed readers for environment variables.

Every setting that comes from the environment goes through one of these helpers, so a typo such
as ``JIANJIAN_DEBUG=ture`` stops the process with a message instead of silently meaning False.
"""

from __future__ import annotations

import os
from pathlib import Path


class ConfigError(RuntimeError):
    """An environment variable holds a value we cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off"
    )


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value} must be at most {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name, default)).expanduser().resolve()


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of: {', '.join(choices)}")
    return value


def env_prefixed(prefix: str) -> dict[str, str]:
    """Every variable named ``prefix`` + a suffix, keyed by the suffix in lower case (e.g. the SMS
    template ids ``JIANJIAN_SMS_TEMPLATE_INTAKE`` → ``{"intake": …}``)."""
    return {
        name[len(prefix) :].lower(): value.strip()
        for name, value in os.environ.items()
        if name.startswith(prefix) and len(name) > len(prefix)
    }
