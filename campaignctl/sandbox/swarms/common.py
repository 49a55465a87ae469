"""SWARMS sandbox: constants, the API error and its constructors, small helpers (time, numbers, money)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.types import Scope

if TYPE_CHECKING:
    pass


P = "swarms"
API_VERSION = "1.0"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
COMMISSION_RATE = Decimal("0.2")
TOKEN_LIFETIME = timedelta(days=30)
USER_ID = 1
RUNNING = ("active", "paused")
KINDS = {"tasks": "task", "jobs": "job", "campaigns": "campaign"}


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered as ``status`` + ``{code, message, description}``."""

    def __init__(self, status: int, code: int, message: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.message = message
        self.description = description

    def response(self) -> JSONResponse:
        body = {"code": self.code, "message": self.message, "description": self.description}
        return JSONResponse(body, status_code=self.status)


def invalid(errors: str | Iterable[str]) -> ApiError:
    text = errors if isinstance(errors, str) else "; ".join(errors)
    return ApiError(400, 2000, "validation failed", text)


def not_found(kind: str, id: int) -> ApiError:
    return ApiError(404, 4004, "not found", f"{kind} {id} does not exist")


def read_only(kind: str, id: int, why: str) -> ApiError:
    return ApiError(409, 3001, "resource is read-only", f"{kind} {id} is read-only: {why}")


def illegal_state(description: str) -> ApiError:
    return ApiError(409, 3000, "illegal state transition", description)


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def timestamp(when: datetime | None = None) -> str:
    return (when or now()).strftime(TS_FORMAT)


def parse_minute_date(value: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` (also accepts ``:SS``), or None when malformed."""
    for fmt in ("%Y-%m-%dT%H:%M", TS_FORMAT):
        try:
            return datetime.strptime(value, fmt)
        except (TypeError, ValueError):
            continue
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_int(value: Any) -> int | None:
    """An integral JSON number as int (3.0 -> 3), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def money(amount: Decimal) -> str:
    text = format(amount.quantize(Decimal("0.000001")).normalize(), "f")
    return f"{text} USD"


def route_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


RESOURCE_MB = {"Image": 1, "ImageMarker": 1, "Audio": 2, "BinaryImageChoice": 2, "Video": 10}
UPLOAD_MB = {"AudioRecording": 1, "ImageMarker": 1, "VideoRecording": 20}


def task_sizes(task: dict[str, Any]) -> tuple[int, int]:
    types = [c.get("type") for c in task.get("components", [])]
    return sum(RESOURCE_MB.get(t, 0) for t in types), sum(UPLOAD_MB.get(t, 0) for t in types)
