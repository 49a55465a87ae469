"""The platform-neutral Schedule, and the helpers providers use to map it."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..config.model import Config, Document
from ..errors import Diagnostic

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def to_utc(value: str, tz: str) -> str:
    """``2026-12-01T09:00`` in ``tz`` -> the same instant in UTC, same format."""
    local = datetime.strptime(value, LOCAL_FORMAT).replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).strftime(LOCAL_FORMAT)


def check_schedule(schedule: Document, used_by: Document, supported: frozenset[str], platform: str) -> list[Diagnostic]:
    """Diagnostics for Schedule fields the platform cannot express, and for bad times."""
    diags = []
    spec = schedule.spec
    for key in spec:
        if key not in supported and key != "timeZone":
            diags.append(
                schedule.mark(key, key=True).diag(
                    f"spec.{key}: {platform} cannot express this schedule field "
                    f"(used by {used_by.kind} {used_by.name!r}); it supports: {', '.join(sorted(supported))}"
                )
            )
    tz = spec.get("timeZone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        diags.append(schedule.mark("timeZone").diag(f"spec.timeZone: unknown time zone {tz!r}"))
        return diags
    start, end = spec.get("start"), spec.get("end")
    parsed = {}
    for key, value in (("start", start), ("end", end)):
        if value is None:
            continue
        try:
            parsed[key] = datetime.strptime(value, LOCAL_FORMAT)
        except ValueError:
            diags.append(schedule.mark(key).diag(f"spec.{key}: {value!r} is not a date-time like 2026-12-01T09:00"))
    if "start" in parsed and "end" in parsed and parsed["end"] <= parsed["start"]:
        diags.append(schedule.mark("end").diag(f"spec.end: {end} is not after start {start}"))
    return diags


def schedule_of(doc: Document, config: Config) -> Document | None:
    name = doc.spec.get("schedule")
    return config.of_kind("Schedule").get(name) if name else None
