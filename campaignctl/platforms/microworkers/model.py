"""Microworkers API v2: the campaign fields as the provider models them (which it PATCHes, which
are fixed once started, their defaults, the statuses). The digest of a campaign's task rows is
:func:`.rows.rows_summary`."""
from __future__ import annotations

from typing import Any

from . import kinds

KINDS = kinds.KINDS.kinds  #: the platform's kinds (kinds.py: what the config checks know, too)
COLLECTION = {"basic": "basic-campaigns", "hire-group": "hire-group-campaigns"}
PATCHABLE = (
    "autoRateNokTask", "autoRateOkTask", "autoRefillPositions", "qtRequired", "successRate", "speed", "ttr",
    "autoSkipTask", "notificationSettings", "timeToWaitAfterSlotExpiration", "visibilityDelay", "maximumJobLimit",
)  # fmt: skip
DEFAULTS: dict[str, Any] = {
    "speed": 1000, "ttr": 7, "visibilityDelay": 0, "timeToWaitAfterSlotExpiration": 0, "qtRequired": False,
    "autoRateOkTask": False, "autoRateNokTask": False, "autoRefillPositions": False, "successRate": None,
    "autoSkipTask": {"enabled": False, "timeLimit": 0}, "notificationSettings": [],
}  # fmt: skip
HIRE_FIELDS = {"maxPositionPerWorker": 1, "numberOfWorkerOnSamePosition": 1, "taskOrder": "random"}
INTERNAL_DEFAULTS: dict[str, Any] = {
    "ratingMethodId": 3, "numberOfSubTasks": 1, "displaySubTasksOnSamePage": False, "adminInstructions": None,
    "numberOfFileProofs": 0, "allowedFileTypes": None,
}  # fmt: skip
FIXED = ("type", "title", "description", "categoryId", "paymentPerTask", "minutesToFinish", "zone", "template",
         "internalTemplate", "externalTemplate", "maxPositionPerWorker", "numberOfWorkerOnSamePosition", "taskOrder")
STATUS = {
    "PENDING_REVIEW": "running", "RUNNING": "running", "PENDING_RESTART": "running",
    "PAUSED": "paused", "PAUSED_ADMIN": "paused", "PAUSED_SYSTEM": "paused", "FINISHED": "stopped",
    "BLOCKED": "blocked",
}  # fmt: skip
#: lifecycle action -> (statuses it leads to, statuses it leaves): read back after a lost answer
READ_BACK: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pause": (("PAUSED",), ("RUNNING", "PENDING_REVIEW")),
    "resume": (("RUNNING", "PENDING_REVIEW"), ("PAUSED",)),
    "stop": (("FINISHED",), ("RUNNING", "PAUSED", "PENDING_REVIEW")),
    "restart": (("RUNNING", "PENDING_RESTART", "PENDING_REVIEW"), ("FINISHED",)),
    "add-positions": ((), ()),  # by availablePositions (see confirm)
}
MIN_BASIC_POSITIONS = 30
DEFAULT_FEE = 0.075
