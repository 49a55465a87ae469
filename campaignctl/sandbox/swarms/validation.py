"""SWARMS sandbox: validation of task, job and campaign bodies (components, fields, id lists)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from .common import ApiError, P, as_int, invalid, is_number, parse_minute_date
from .context import Ctx

# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------

STRING, NUMBER, BOOLEAN, OPTION = "string", "number", "boolean", "Option Object"

COMPONENTS: dict[str, dict[str, str]] = {
    "AudioRecording": {"minDurationInSeconds": NUMBER, "maxDurationInSeconds": NUMBER},
    "BinaryChoice": {"option1": STRING, "option2": STRING},
    "BinaryImageChoice": {"option1": OPTION, "option2": OPTION},
    "ImageMarker": {"url": STRING},
    "Rating": {"steps": NUMBER, "halfSteps": BOOLEAN},
    "Stepper": {"min": NUMBER, "max": NUMBER, "step": NUMBER, "start": NUMBER},
    "TextInput": {"hint": STRING},
    "Toggle": {"label": STRING, "checkedByDefault": BOOLEAN, "explanation": STRING},
    "VideoRecording": {"orientation": STRING, "minDurationInSeconds": NUMBER, "maxDurationInSeconds": NUMBER},
    "Audio": {"url": STRING, "autoplay": BOOLEAN, "repeat": BOOLEAN, "mustListen": BOOLEAN},
    "Image": {"url": STRING},
    "Text": {"text": STRING, "style": STRING},
    "Video": {"url": STRING, "autoplay": BOOLEAN, "repeat": BOOLEAN, "mustWatch": BOOLEAN, "playAudio": BOOLEAN},
}
INTERACTIVE = (
    "AudioRecording", "BinaryChoice", "BinaryImageChoice", "ImageMarker", "Rating", "Stepper",
    "TextInput", "Toggle", "VideoRecording",
)
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Text", "style"): ("Question", "Instruction", "H1", "H2", "PlainText", "Html", "Quote"),
    ("VideoRecording", "orientation"): ("any", "portrait", "landscape"),
}
COMPONENT_FLAGS = ("sticky", "optionalResult", "landscape")
OPTION_KEYS = ("id", "url", "label")
READ_ONLY_FIELDS = frozenset(
    {"id", "readOnly", "createdAt", "lastModifiedAt", "archived", "resourcesSize", "estimatedUploadSize", "state", "_links"}
)
DURATION = re.compile(r"^([1-9][0-9]*) (sec|secs|min|mins|hour|hours|day|days)$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _is_type(value: Any, expected: str) -> bool:
    if expected == STRING:
        return isinstance(value, str)
    if expected == NUMBER:
        return is_number(value)
    if expected == BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, dict)


def check_fields(body: dict[str, Any], allowed: Iterable[str], where: str, errors: list[str]) -> None:
    allowed = set(allowed)
    for key in body:
        if key not in allowed and key not in READ_ONLY_FIELDS:
            errors.append(f"{where}{key}: unknown field (allowed: {', '.join(sorted(allowed))})")


def check_name(body: dict[str, Any], errors: list[str]) -> str:
    name = body.get("name")
    if name is None:
        errors.append("name: required")
    elif not isinstance(name, str):
        errors.append(f"name: must be a string (got {type_name(name)})")
    elif not name.strip():
        errors.append("name: must not be empty")
    return name if isinstance(name, str) else ""


def check_string(body: dict[str, Any], field: str, errors: list[str], default: str = "") -> str:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        errors.append(f"{field}: must be a string (got {type_name(value)})")
        return default
    return value


def check_properties(body: dict[str, Any], errors: list[str], where: str = "") -> dict[str, Any]:
    value = body.get("properties")
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{where}properties: must be an object of key/value pairs (got {type_name(value)})")
        return {}
    return value


def validate_component(comp: Any, where: str, errors: list[str]) -> dict[str, Any]:
    if not isinstance(comp, dict):
        errors.append(f"{where}: must be an object (got {type_name(comp)})")
        return {}
    check_fields(comp, ("type", *COMPONENT_FLAGS, "properties"), f"{where}.", errors)
    ctype = comp.get("type")
    out: dict[str, Any] = {"type": ctype}
    if ctype is None:
        errors.append(f"{where}.type: required (one of {', '.join(COMPONENTS)})")
    elif ctype not in COMPONENTS:
        errors.append(f"{where}.type: unknown component type {ctype!r} (one of {', '.join(COMPONENTS)})")
    for flag in COMPONENT_FLAGS:
        value = comp.get(flag, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            errors.append(f"{where}.{flag}: must be a boolean (got {type_name(value)})")
        out[flag] = value
    props = comp.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        errors.append(f"{where}.properties: must be an object (got {type_name(props)})")
        props = {}
    if ctype in COMPONENTS:
        _validate_attributes(ctype, props, f"{where}.properties", errors)
    out["properties"] = props
    return out


def _validate_attributes(ctype: str, props: dict[str, Any], where: str, errors: list[str]) -> None:
    table = COMPONENTS[ctype]
    for key, value in props.items():
        if key not in table:
            allowed = ", ".join(table)
            errors.append(f"{where}.{key}: unknown attribute for {ctype} (allowed: {allowed})")
            continue
        expected = table[key]
        if not _is_type(value, expected):
            errors.append(f"{where}.{key}: must be a {expected} (got {type_name(value)})")
            continue
        if expected == OPTION:
            for okey, ovalue in value.items():
                if okey not in OPTION_KEYS:
                    errors.append(f"{where}.{key}.{okey}: unknown attribute of an Option Object (allowed: id, url, label)")
                elif not isinstance(ovalue, str):
                    errors.append(f"{where}.{key}.{okey}: must be a string (got {type_name(ovalue)})")
        choices = ENUMS.get((ctype, key))
        if choices and value not in choices:
            errors.append(f"{where}.{key}: must be one of {', '.join(choices)} (got {value!r})")
    _check_ranges(ctype, props, where, errors)


def _check_ranges(ctype: str, props: dict[str, Any], where: str, errors: list[str]) -> None:
    def num(key: str) -> float | None:
        value = props.get(key)
        return value if is_number(value) else None

    if ctype == "Rating" and "steps" in props and is_number(props["steps"]):
        steps = as_int(props["steps"])
        if steps is None or steps < 1:
            errors.append(f"{where}.steps: must be a whole number >= 1 (got {props['steps']!r})")
    if ctype == "Stepper":
        lo, hi, step, start = num("min"), num("max"), num("step"), num("start")
        if step is not None and step <= 0:
            errors.append(f"{where}.step: must be > 0 (got {step!r})")
        if lo is not None and hi is not None and lo > hi:
            errors.append(f"{where}.min: must be <= max ({lo!r} > {hi!r})")
        if start is not None and ((lo is not None and start < lo) or (hi is not None and start > hi)):
            errors.append(f"{where}.start: must lie within min..max (got {start!r})")
    if ctype in ("AudioRecording", "VideoRecording"):
        lo, hi = num("minDurationInSeconds"), num("maxDurationInSeconds")
        for key, value in (("minDurationInSeconds", lo), ("maxDurationInSeconds", hi)):
            if value is not None and value < 0:
                errors.append(f"{where}.{key}: must be >= 0 (got {value!r})")
        if lo is not None and hi is not None and lo > hi:
            errors.append(f"{where}.minDurationInSeconds: must be <= maxDurationInSeconds ({lo!r} > {hi!r})")


def validate_task(body: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    check_fields(body, ("name", "components", "properties"), "", errors)
    name = check_name(body, errors)
    comps = body.get("components")
    components: list[dict[str, Any]] = []
    if comps is None:
        comps = []
    if not isinstance(comps, list):
        errors.append(f"components: must be an array (got {type_name(comps)})")
        comps = []
    for index, comp in enumerate(comps):
        components.append(validate_component(comp, f"components[{index}]", errors))
    properties = check_properties(body, errors)
    if errors:
        raise invalid(errors)
    return {"name": name, "components": components, "properties": properties}


def validate_job(body: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    check_fields(body, ("name", "description", "properties"), "", errors)
    out = {
        "name": check_name(body, errors),
        "description": check_string(body, "description", errors),
        "properties": check_properties(body, errors),
    }
    if errors:
        raise invalid(errors)
    return out


CAMPAIGN_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("name", None),
    "title": ("string", None),
    "description": ("string", ""),
    "terms": ("string", ""),
    "estDuration": ("duration", None),
    "workerPayment": ("payment", None),
    "results": ("count", None),
    "maxResultsPerWorker": ("count", None),
    "workerGroup": ("count", None),
    "maxWorkTime": ("duration", None),
    "maxUploadTime": ("duration", None),
    "maxReviewTime": ("duration", None),
    "training": ("boolean", False),
    "startDate": ("date", None),
    "endDate": ("date", None),
    "properties": ("object", {}),
}


def _campaign_value(field: str, kind: str, value: Any, errors: list[str]) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            errors.append(f"{field}: must be a string (got {type_name(value)})")
        return value
    if kind == "duration":
        if not isinstance(value, str) or not DURATION.match(value):
            errors.append(f"{field}: must be a duration like '10 sec', '10 min', '4 hours' or '2 days' (got {value!r})")
        return value
    if kind == "payment":
        if not is_number(value):
            errors.append(f"{field}: must be a number of USD (got {type_name(value)})")
        elif value <= 0:
            errors.append(f"{field}: must be > 0 (got {value!r})")
        return value
    if kind == "count":
        number = as_int(value)
        if number is None:
            errors.append(f"{field}: must be a whole number (got {value!r})")
        elif number < 1:
            errors.append(f"{field}: must be >= 1 (got {number})")
        return number if number is not None else value
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{field}: must be a boolean (got {type_name(value)})")
        return value
    if kind == "date":
        if not isinstance(value, str) or not DATE.match(value) or parse_minute_date(value) is None:
            errors.append(f"{field}: must be a date like '2018-01-01T10:00' (YYYY-MM-DDTHH:MM) (got {value!r})")
        return value
    if not isinstance(value, dict):
        errors.append(f"{field}: must be an object of key/value pairs (got {type_name(value)})")
    return value


def validate_campaign(body: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    check_fields(body, CAMPAIGN_FIELDS, "", errors)
    out: dict[str, Any] = {}
    for field, (kind, default) in CAMPAIGN_FIELDS.items():
        if kind == "name":
            out[field] = check_name(body, errors)
            continue
        value = body.get(field)
        out[field] = default if value is None else _campaign_value(field, kind, value, errors)
    start, end = out["startDate"], out["endDate"]
    if isinstance(start, str) and isinstance(end, str):
        start_at, end_at = parse_minute_date(start), parse_minute_date(end)
        if start_at and end_at and end_at <= start_at:
            errors.append(f"endDate: must be after startDate ({end} <= {start})")
    if errors:
        raise invalid(errors)
    if isinstance(out["properties"], dict):
        out["properties"] = dict(out["properties"])
    return out


def parse_id_list(data: Any, what: str) -> list[int]:
    if not isinstance(data, list):
        raise invalid(f"body: must be a JSON array of {what} ids (got {type_name(data)})")
    ids: list[int] = []
    errors = []
    for index, item in enumerate(data):
        number = as_int(item)
        if number is None:
            errors.append(f"[{index}]: must be a {what} id (got {item!r})")
        else:
            ids.append(number)
    if errors:
        raise invalid(errors)
    return ids


def check_linkable(ctx: Ctx, kind: str, ids: Iterable[int]) -> None:
    """400 code 2001 when an id is unknown or archived."""
    problems = []
    for id in dict.fromkeys(ids):
        doc = ctx.task(id) if kind == "task" else ctx.store.get(P, kind, id)
        if doc is None:
            problems.append(f"{kind} {id} does not exist")
        elif doc.get("archived"):
            problems.append(f"{kind} {id} is archived")
    if problems:
        raise ApiError(400, 2001, "unknown id in list", "; ".join(problems))
