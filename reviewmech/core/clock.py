"""One clock for everyone: times shown in the reader's time zone, with the zone named.

The server and the page's script write a time the same way: `2026-12-01 14:33 (Europe/Paris)`, or
`14:33 (Europe/Paris)` for a time of today's work. The script reads the zone from the page
(`<html data-timezone="Europe/Paris">`, see `static/js/app.js`), so "Saved at 14:33" written by the
script and "Last saved … 14:33" written by the server never disagree. Stored times stay UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, has_request_context
from flask_login import current_user

DEFAULT_TIME_ZONE = "UTC"
TIME_ZONE_MAX = 64


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone this machine knows, sorted (UTC first)."""
    names = sorted(name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "posix/",
                                                                                                    "right/")))
    return (DEFAULT_TIME_ZONE, *names)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(time_zone_names())


def is_time_zone(name: object) -> bool:
    """Whether `name` is a time zone we offer (an IANA name such as `America/Mexico_City`, or `UTC`)."""
    return isinstance(name, str) and len(name) <= TIME_ZONE_MAX and name in _known_zones()


def reader_time_zone() -> str:
    """The time zone of the person reading: their profile's, else UTC."""
    if has_request_context() and current_user and current_user.is_authenticated:
        chosen = getattr(current_user, "timezone", None)
        if is_time_zone(chosen):
            return chosen
    return DEFAULT_TIME_ZONE


def zone_label(name: str) -> str:
    """How a zone is named next to a time: `Europe/Paris`, `America/Mexico City`, `UTC`."""
    return name.replace("_", " ")


def _local(moment: datetime, zone: str | None) -> tuple[datetime, str]:
    name = zone if is_time_zone(zone) else reader_time_zone()
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        name, tz = DEFAULT_TIME_ZONE, UTC
    if moment.tzinfo is None:  # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz), name


def local_datetime(moment: datetime | None, zone: str | None = None) -> str:
    """A moment as `YYYY-MM-DD HH:MM (zone)` in the reader's time zone (or `zone`); empty for None."""
    if moment is None:
        return ""
    local, name = _local(moment, zone)
    return f"{local:%Y-%m-%d %H:%M} ({zone_label(name)})"


def local_time(moment: datetime | None, zone: str | None = None) -> str:
    """A moment as `HH:MM (zone)` in the reader's time zone (or `zone`); empty for None."""
    if moment is None:
        return ""
    local, name = _local(moment, zone)
    return f"{local:%H:%M} ({zone_label(name)})"


def local_date(moment: datetime | None, zone: str | None = None) -> str:
    """The day of a moment, `YYYY-MM-DD`, in the reader's time zone (or `zone`); empty for None."""
    if moment is None:
        return ""
    local, _name = _local(moment, zone)
    return f"{local:%Y-%m-%d}"


def init_clock(app: Flask) -> None:
    """Offer the time helpers to every template: filters `local_datetime`, `local_time`, `local_date`."""
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["reader_time_zone"] = reader_time_zone
    app.jinja_env.globals["zone_label"] = zone_label
