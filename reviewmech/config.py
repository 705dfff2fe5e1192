"""Settings read from the environment (REVIEWMECH_*) and the instance folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LANGUAGES = ("en", "es", "fr")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français"}


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message is one line for the operator."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"REVIEWMECH_{name}")
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"REVIEWMECH_{name} must be a whole number, not {raw!r}") from None


def _env_hours(name: str, default: float) -> int:
    """A duration given in hours (fractions allowed, e.g. 0.5), returned in seconds."""
    raw = _env(name)
    if raw is None:
        return round(default * 3600)
    try:
        hours = float(raw)
    except ValueError:
        raise ConfigError(f"REVIEWMECH_{name} must be a number of hours such as 0.5 or 12, not {raw!r}") from None
    if not 0 < hours < 24 * 366:
        raise ConfigError(f"REVIEWMECH_{name} must be more than 0 hours and less than a year, not {raw!r}")
    return round(hours * 3600)


def _env_seconds(name: str, default: float, *, allow_zero: bool = False) -> float:
    """A duration in seconds (fractions allowed); 0 means "no limit" where `allow_zero`."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"REVIEWMECH_{name} must be a number of seconds, not {raw!r}") from None
    if seconds < 0 or (seconds == 0 and not allow_zero) or seconds > 3600:
        lowest = "0" if allow_zero else "more than 0"
        raise ConfigError(f"REVIEWMECH_{name} must be {lowest} and at most 3600 seconds, not {raw!r}")
    return seconds


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key(instance_path: Path) -> str:
    """Return the secret key kept in the instance folder, creating it once."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def settings_from_environment(instance_path: Path) -> dict:
    """Build the Flask configuration from REVIEWMECH_* variables."""
    env = _env("ENV", "development")
    if env not in {"development", "production"}:
        raise ConfigError(f"REVIEWMECH_ENV must be 'development' or 'production', not {env!r}")
    is_production = env == "production"
    secret_key = _env("SECRET_KEY")
    if secret_key is None:
        if is_production:
            raise ConfigError("REVIEWMECH_SECRET_KEY must be set when REVIEWMECH_ENV=production")
        secret_key = _development_secret_key(instance_path)
    database_url = _env("DATABASE_URL", f"sqlite:///{instance_path / 'reviewmech.sqlite3'}")
    # SESSION_HOURS is the older name of SESSION_MAX_HOURS.
    session_max_seconds = _env_hours("SESSION_MAX_HOURS", _env_hours("SESSION_HOURS", 12) / 3600)
    session_idle_seconds = min(_env_hours("SESSION_IDLE_HOURS", 0.5), session_max_seconds)
    return {
        "REVIEWMECH_ENV": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DB_CONNECT_TIMEOUT": _env_seconds("DB_CONNECT_TIMEOUT", 3),
        "DB_STATEMENT_TIMEOUT": _env_seconds("DB_STATEMENT_TIMEOUT", 10, allow_zero=True),
        "SESSION_COOKIE_SECURE": is_production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": is_production,
        "PERMANENT_SESSION_LIFETIME": session_max_seconds,
        "SESSION_IDLE_SECONDS": session_idle_seconds,
        "SESSION_MAX_SECONDS": session_max_seconds,
        "KEPT_FORM_HOURS": 24,
        "WTF_CSRF_TIME_LIMIT": _env_int("CSRF_HOURS", 24) * 3600,
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024 + 64 * 1024,
        "ATTACHMENT_MAX_BYTES": _env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SIGN_IN_LIMIT": _env("SIGN_IN_LIMIT", "5 per 15 minutes"),
        "BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_FROM": _env("MAIL_FROM", "reviewmech <no-reply@reviewmech.invalid>"),
        "SMTP_HOST": _env("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": _env_int("SMTP_PORT", 25),
        "SMTP_USERNAME": _env("SMTP_USERNAME"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "SMTP_TIMEOUT": _env_int("SMTP_TIMEOUT", 20),
        "MAIL_MAX_ATTEMPTS": _env_int("MAIL_MAX_ATTEMPTS", 8),
        "INVITATION_DAYS": 10,
        "PASSWORD_RESET_HOURS": 2,
        "PROXY_COUNT": _env_int("PROXY_COUNT", 0),
        "MAX_REDRAWS": _env_int("MAX_REDRAWS", 1),
        "MAX_REVIEWS_PER_YEAR": _env_int("MAX_REVIEWS_PER_YEAR", 3),
        "DEMO_PASSWORD": _env("DEMO_PASSWORD", "review-mechanism-demo"),
        # argon2 cost of password hashes (argon2-cffi's defaults: 3 passes over 64 MiB, 4 lanes)
        "ARGON2_TIME_COST": _env_int("ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_KIB": _env_int("ARGON2_MEMORY_KIB", 65536),
        "ARGON2_PARALLELISM": _env_int("ARGON2_PARALLELISM", 4),
        "OUTBOX_IN_APP": not is_production and _env_bool("OUTBOX_IN_APP", True),
    }
