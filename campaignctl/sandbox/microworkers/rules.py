"""Request validation of the Microworkers API v2 sandbox.

Every validator collects *all* problems of a body as ``(field, message)`` pairs (field paths like
``tasks[3].data`` or ``maximumJobLimit.standardSchedule.daysOfWeek[0]``) and raises one
:class:`ApiError` ``ValidationFailed``; business-rule errors get their own documented code.
Task rows are the exception: :func:`check_rows` returns row-level errors so that queue jobs can
report them in their output instead of failing the request.
"""
from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from . import data


class ApiError(Exception):
    """A problem+json answer: HTTP status, error code (the ``title``), detail, field errors."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors
        self.extra = extra


def validation_failed(errors: list[tuple[str, str]], detail: str | None = None) -> ApiError:
    detail = detail or "; ".join(f"{f}: {m}" for f, m in errors[:5]) + (" ..." if len(errors) > 5 else "")
    return ApiError(400, "ValidationFailed", detail, [{"field": f, "message": m} for f, m in errors])


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, "NotFound", f"{what} {ident!r} was not found.")


class Checker:
    """Collects field errors of one body; :meth:`done` raises them all at once."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append((field, message))

    def done(self) -> None:
        if self.errors:
            raise validation_failed(self.errors)

    def unknown(self, body: dict[str, Any], allowed: set[str] | frozenset[str], prefix: str = "") -> None:
        for key in body:
            if key not in allowed:
                self.add(prefix + key, "Unknown field.")

    def integer(self, value: Any, field: str, lo: int | None = None, hi: int | None = None) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, "Must be an integer.")
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"between {lo} and {hi}" if lo is not None and hi is not None else (
                f"at least {lo}" if lo is not None else f"at most {hi}")
            self.add(field, f"Must be {rng}.")
            return None
        return value

    def boolean(self, value: Any, field: str) -> bool | None:
        if not isinstance(value, bool):
            self.add(field, "Must be a boolean.")
            return None
        return value

    def string(self, value: Any, field: str, *, max_len: int | None = None, empty: bool = False) -> str | None:
        if not isinstance(value, str):
            self.add(field, "Must be a string.")
            return None
        if not empty and not value.strip():
            self.add(field, "Must not be empty.")
            return None
        if max_len is not None and len(value) > max_len:
            self.add(field, f"Must be at most {max_len} characters long.")
            return None
        return value

    def choice(self, value: Any, field: str, choices: list[str]) -> str | None:
        if value not in choices:
            self.add(field, f"Must be one of: {', '.join(choices)}.")
            return None
        return str(value)

    def obj(self, value: Any, field: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(field, "Must be an object.")
            return None
        return value

    def array(self, value: Any, field: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.add(field, "Must be an array.")
            return None
        return value

    def money(self, value: Any, field: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.add(field, "Must be a number.")
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.add(field, "Must be a number.")
            return None
        if not amount.is_finite() or amount <= 0:
            self.add(field, "Must be greater than 0.")
            return None
        return amount


def limit(name: str, bound: str) -> int:
    return data.LIMITS[name][bound]


def ranged(c: Checker, body: dict[str, Any], key: str, default: Any = None, *, nullable: bool = False) -> Any:
    """An integer field checked against :data:`.data.LIMITS`; ``default`` when absent."""
    if key not in body:
        return default
    if body[key] is None and nullable:
        return None
    bounds = data.LIMITS[key]
    return c.integer(body[key], key, bounds.get("min"), bounds.get("max"))


# -- simple settings shared by create and PATCH ---------------------------------------------------
BOOL_SETTINGS = ("qtRequired", "autoRateOkTask", "autoRateNokTask", "autoRefillPositions")
RANGED_SETTINGS = ("speed", "ttr", "visibilityDelay", "timeToWaitAfterSlotExpiration")
PATCHABLE = frozenset({
    "autoRateNokTask", "autoRateOkTask", "autoRefillPositions", "qtRequired", "successRate", "speed", "ttr",
    "autoSkipTask", "notificationSettings", "timeToWaitAfterSlotExpiration", "visibilityDelay", "maximumJobLimit",
})
DEFAULTS: dict[str, Any] = {
    "speed": 1000, "ttr": 7, "visibilityDelay": 0, "timeToWaitAfterSlotExpiration": 0, "qtRequired": False,
    "autoRateOkTask": False, "autoRateNokTask": False, "autoRefillPositions": False, "successRate": None,
}


def check_settings(c: Checker, body: dict[str, Any], *, fill_defaults: bool) -> dict[str, Any]:
    """The PATCHable settings present in ``body`` (plus defaults on create), validated."""
    out: dict[str, Any] = {}
    for key in RANGED_SETTINGS:
        if key in body or fill_defaults:
            out[key] = ranged(c, body, key, DEFAULTS[key])
    if "successRate" in body or fill_defaults:
        out["successRate"] = ranged(c, body, "successRate", None, nullable=True)
    for key in BOOL_SETTINGS:
        if key in body:
            out[key] = c.boolean(body[key], key)
        elif fill_defaults:
            out[key] = DEFAULTS[key]
    if "autoSkipTask" in body:
        out["autoSkipTask"] = check_auto_skip(c, body["autoSkipTask"])
    elif fill_defaults:
        out["autoSkipTask"] = {"enabled": False, "timeLimit": 0}
    if "notificationSettings" in body:
        out["notificationSettings"] = check_notifications(c, body["notificationSettings"])
    elif fill_defaults:
        out["notificationSettings"] = []
    if "maximumJobLimit" in body:
        out["maximumJobLimit"] = check_job_limit(c, body["maximumJobLimit"])
    elif fill_defaults:
        out["maximumJobLimit"] = check_job_limit(c, {"enabled": False})
    return out


def check_auto_skip(c: Checker, value: Any) -> dict[str, Any] | None:
    f = "autoSkipTask"
    if (body := c.obj(value, f)) is None:
        return None
    c.unknown(body, {"enabled", "timeLimit"}, f + ".")
    enabled = c.boolean(body.get("enabled"), f + ".enabled")
    time_limit = body.get("timeLimit", 0)
    if enabled:
        time_limit = c.integer(time_limit, f + ".timeLimit", 1, 3600)
    elif time_limit is not None:
        time_limit = c.integer(time_limit, f + ".timeLimit", 0, 3600)
    return {"enabled": enabled, "timeLimit": time_limit}


def check_notifications(c: Checker, value: Any) -> list[dict[str, Any]] | None:
    f = "notificationSettings"
    if (items := c.array(value, f)) is None:
        return None
    out = []
    for i, item in enumerate(items):
        p = f"{f}[{i}]"
        if (body := c.obj(item, p)) is None:
            continue
        c.unknown(body, {"url", "type", "notificationTypes"}, p + ".")
        url = c.string(body.get("url"), p + ".url")
        if url is not None and not url.startswith("https://"):
            c.add(p + ".url", "Must be an https:// Amazon SQS queue URL.")
        kind = c.choice(body.get("type", "AMAZON_SQS"), p + ".type", data.NOTIFICATION_SETTING_TYPES)
        types = c.array(body.get("notificationTypes"), p + ".notificationTypes") or []
        for j, t in enumerate(types):
            c.choice(t, f"{p}.notificationTypes[{j}]", data.NOTIFICATION_TYPES)
        if not types:
            c.add(p + ".notificationTypes", "Must name at least one notification type.")
        out.append({"url": url, "type": kind, "notificationTypes": types})
    return out


# -- maximumJobLimit ---------------------------------------------------------------------------
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
_OFFSET_TZ = re.compile(r"^(?:UTC)?[+-](?:0\d|1[0-4]):[0-5]\d$")
JOB_LIMIT_KEYS = {"enabled", "limitPerDay", "distributionType", "standardSchedule", "advancedSchedule"}
#: the docs' StandardScheduleResponse JSON: no limitPerDay (that is maximumJobLimit.limitPerDay, beside it)
STANDARD_KEYS = {"timeZone", "limitPerHour", "allDay", "allWeekdays", "daysOfWeek", "workingHours"}
RECUR_KEYS = {"type", "daysOfWeek", "startTime", "endTime", "startRecur", "endRecur", "limitPerDay", "limitPerHour"}
ONE_TIME_KEYS = {"type", "start", "end", "allDay", "limitPerDay", "limitPerHour"}


def _timezone(c: Checker, value: Any, field: str) -> str | None:
    tz = c.string(value, field)
    if tz is None:
        return None
    if tz == "UTC" or _OFFSET_TZ.match(tz):
        return tz
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        c.add(field, "Unknown time zone (use an IANA name like Europe/Berlin, UTC, or an offset like +02:00).")
        return None
    return tz


def _days(c: Checker, value: Any, field: str, required: bool) -> list[int] | None:
    days = c.array(value if value is not None else [], field)
    if days is None:
        return None
    for i, d in enumerate(days):
        c.integer(d, f"{field}[{i}]", 0, 6)
    if len(set(map(str, days))) != len(days):
        c.add(field, "Days must be unique.")
    if required and not days:
        c.add(field, "Must list at least one day (0 = Sunday .. 6 = Saturday).")
    return days


def _clock(c: Checker, value: Any, field: str) -> str | None:
    if not isinstance(value, str) or not _TIME.match(value):
        c.add(field, "Must be a time HH:MM.")
        return None
    return value


def _when(c: Checker, value: Any, field: str, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if isinstance(value, str):
        try:
            (datetime if "T" in value or " " in value else date).fromisoformat(value)
            return value
        except ValueError:
            pass
    c.add(field, "Must be an ISO 8601 date or date-time.")
    return None


def _as_dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value) if ("T" in value or " " in value) else datetime.fromisoformat(value + "T00:00")
    return parsed.replace(tzinfo=None)


def _limits(c: Checker, body: dict[str, Any], p: str) -> tuple[int | None, int | None]:
    per_day = body.get("limitPerDay")
    per_hour = body.get("limitPerHour")
    if per_day is not None:
        per_day = c.integer(per_day, p + "limitPerDay", 1, 1_000_000)
    if per_hour is not None:
        per_hour = c.integer(per_hour, p + "limitPerHour", 1, 1_000_000)
    return per_day, per_hour


def check_job_limit(c: Checker, value: Any) -> dict[str, Any] | None:
    f = "maximumJobLimit"
    if (body := c.obj(value, f)) is None:
        return None
    c.unknown(body, JOB_LIMIT_KEYS, f + ".")
    enabled = c.boolean(body.get("enabled"), f + ".enabled")
    per_day, _ = _limits(c, {"limitPerDay": body.get("limitPerDay")}, f + ".")
    dist = c.choice(body.get("distributionType") or "asap", f + ".distributionType", data.DISTRIBUTION_TYPES)
    std = body.get("standardSchedule")
    adv = body.get("advancedSchedule")
    if std is not None and adv is not None:
        c.add(f, "Give either standardSchedule or advancedSchedule, not both.")
    if enabled and per_day is None and std is None and adv is None:
        c.add(f + ".limitPerDay", "Required when maximumJobLimit is enabled without a schedule.")
    return {
        "enabled": enabled,
        "limitPerDay": per_day,
        "distributionType": dist,
        "advancedSchedule": _advanced(c, adv, f + ".advancedSchedule") if adv is not None else None,
        "standardSchedule": _standard(c, std, f + ".standardSchedule") if std is not None else None,
    }


def _standard(c: Checker, value: Any, f: str) -> dict[str, Any] | None:
    if (body := c.obj(value, f)) is None:
        return None
    body = dict(body)
    if "allWeekDays" in body and "allWeekdays" not in body:  # the docs' table spells it this way
        body["allWeekdays"] = body.pop("allWeekDays")
    c.unknown(body, STANDARD_KEYS, f + ".")
    _, per_hour = _limits(c, body, f + ".")
    all_day = c.boolean(body.get("allDay", True), f + ".allDay")
    all_week = c.boolean(body.get("allWeekdays", True), f + ".allWeekdays")
    days = _days(c, body.get("daysOfWeek"), f + ".daysOfWeek", required=all_week is False)
    hours = c.array(body.get("workingHours", []) if body.get("workingHours") is not None else [], f + ".workingHours")
    for i, h in enumerate(hours or []):
        parts = h.split("-") if isinstance(h, str) else []
        if len(parts) != 2 or not all(_TIME.match(x) for x in parts) or parts[0] >= parts[1]:
            c.add(f"{f}.workingHours[{i}]", "Must be a range HH:MM-HH:MM with start before end.")
    if all_day is False and not hours:
        c.add(f + ".workingHours", "Must list at least one range when allDay is false.")
    return {
        "timeZone": _timezone(c, body.get("timeZone", "UTC"), f + ".timeZone"),
        "limitPerHour": per_hour,
        "allDay": all_day,
        "allWeekdays": all_week,
        "daysOfWeek": days,
        "workingHours": hours,
    }


def _advanced(c: Checker, value: Any, f: str) -> dict[str, Any] | None:
    if (body := c.obj(value, f)) is None:
        return None
    c.unknown(body, {"timeZone", "limitPerHour", "events"}, f + ".")
    _, per_hour = _limits(c, {"limitPerHour": body.get("limitPerHour")}, f + ".")
    events = c.array(body.get("events"), f + ".events")
    out_events: list[dict[str, Any]] = []
    if events is not None and not 1 <= len(events) <= 100:
        c.add(f + ".events", "Must hold 1 to 100 events.")
    for i, ev in enumerate(events or []):
        p = f"{f}.events[{i}]"
        if (e := c.obj(ev, p)) is None:
            continue
        per_day, ev_hour = _limits(c, e, p + ".")
        if e.get("type") == "recur":
            c.unknown(e, RECUR_KEYS, p + ".")
            start, end = _clock(c, e.get("startTime"), p + ".startTime"), _clock(c, e.get("endTime"), p + ".endTime")
            if start and end and start >= end:
                c.add(p + ".endTime", "Must be after startTime.")
            s_rec = _when(c, e.get("startRecur"), p + ".startRecur")
            e_rec = _when(c, e.get("endRecur"), p + ".endRecur", nullable=True)
            if s_rec and e_rec and _as_dt(e_rec) < _as_dt(s_rec):
                c.add(p + ".endRecur", "Must not be before startRecur.")
            out_events.append({
                "type": "recur", "daysOfWeek": _days(c, e.get("daysOfWeek"), p + ".daysOfWeek", required=True),
                "startTime": start, "endTime": end, "startRecur": s_rec, "endRecur": e_rec,
                "limitPerDay": per_day, "limitPerHour": ev_hour,
            })
        elif e.get("type") == "one-time":
            c.unknown(e, ONE_TIME_KEYS, p + ".")
            start_at, end_at = _when(c, e.get("start"), p + ".start"), _when(c, e.get("end"), p + ".end")
            if start_at and end_at and _as_dt(end_at) <= _as_dt(start_at):
                c.add(p + ".end", "Must be after start.")
            out_events.append({
                "type": "one-time", "start": start_at, "end": end_at,
                "allDay": c.boolean(e.get("allDay", False), p + ".allDay"),
                "limitPerDay": per_day, "limitPerHour": ev_hour,
            })
        else:
            c.add(p + ".type", "Must be one of: recur, one-time.")
    return {"timeZone": _timezone(c, body.get("timeZone", "UTC"), f + ".timeZone"), "limitPerHour": per_hour,
            "events": out_events}


# -- task rows ---------------------------------------------------------------------------------
_ROW_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def check_rows(
    rows: list[Any], variables: list[str], question_ids: set[str], existing_ids: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate unique task rows; returns ``(normalised rows, row errors)``.

    A row error is ``{index, id, field, message}`` (``index`` is 0-based in the request's ``tasks``).
    Rows without ``id`` get ``id: None`` here; the caller generates one.
    """
    out: list[dict[str, Any]] = []
    errs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        row_id = row.get("id") if isinstance(row, dict) else None

        def err(field: str, message: str, i: int = i, row_id: Any = row_id) -> None:
            errs.append({"index": i, "id": row_id if isinstance(row_id, str) else None,
                         "field": f"tasks[{i}]" + (f".{field}" if field else ""), "message": message})

        if not isinstance(row, dict):
            err("", "Task row must be an object.")
            continue
        for key in row:
            if key not in ("id", "data", "testCases"):
                err(key, "Unknown field.")
        if row_id is not None:
            if not isinstance(row_id, str) or not _ROW_ID.match(row_id):
                err("id", "Task ID must contain alpha-numeric characters only (1-64).")
            elif row_id in seen:
                err("id", f"Task ID {row_id!r} is not unique in this request.")
            elif row_id in existing_ids:
                err("id", f"Task ID {row_id!r} already exists in this campaign.")
            else:
                seen.add(row_id)
        pairs = row.get("data")
        values: dict[str, str] = {}
        if not isinstance(pairs, list) or not pairs:
            err("data", "Task data is empty.")
            pairs = []
        for j, kv in enumerate(pairs):
            if not isinstance(kv, dict) or set(kv) != {"key", "value"}:
                err(f"data[{j}]", "Must be an object {key, value}.")
            elif not isinstance(kv["key"], str) or not kv["key"]:
                err(f"data[{j}].key", "Key must be a non-empty string.")
            elif not isinstance(kv["value"], str):
                err(f"data[{j}].value", "Value must be a string.")
            elif kv["key"] in values:
                err(f"data[{j}].key", f"Duplicate key {kv['key']!r}.")
            else:
                values[kv["key"]] = kv["value"]
        if pairs:
            for var in variables:
                if var not in values:
                    err("data", f"Missing value for template variable {var!r}.")
        cases = row.get("testCases", [])
        if not isinstance(cases, list):
            err("testCases", "Must be an array.")
            cases = []
        for j, tc in enumerate(cases):
            if not isinstance(tc, dict) or set(tc) - {"questionId", "answers"}:
                err(f"testCases[{j}]", "Must be an object {questionId, answers}.")
            elif not isinstance(tc.get("questionId"), str) or tc["questionId"] not in question_ids:
                err(f"testCases[{j}].questionId", f"Unknown question {tc.get('questionId')!r}.")
            elif (not isinstance(tc.get("answers"), list) or not tc["answers"]
                  or not all(isinstance(a, str) for a in tc["answers"])):
                err(f"testCases[{j}].answers", "Must be a non-empty list of strings.")
        out.append({"id": row_id if isinstance(row_id, str) else None, "data": [{"key": k, "value": v} for k, v in values.items()],
                    "testCases": [{"questionId": tc["questionId"], "answers": list(tc["answers"])}
                                  for tc in cases if isinstance(tc, dict) and isinstance(tc.get("answers"), list)]})
    return out, errs


def rows_list(c: Checker, value: Any, field: str = "tasks") -> list[Any] | None:
    rows = c.array(value, field)
    if rows is not None and not rows:
        c.add(field, "Must hold at least one task.")
    if rows is not None and len(rows) > limit("tasksPerRequest", "max"):
        c.add(field, f"At most {limit('tasksPerRequest', 'max')} tasks per request.")
    return rows
