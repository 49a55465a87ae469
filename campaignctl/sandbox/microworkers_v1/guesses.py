"""Every guess the Microworkers legacy API v1 sandbox makes beyond ``/work/shared/api-docs`` and the
public v1 pages (the API v2 sandbox's: :mod:`campaignctl.sandbox.microworkers.guesses`).

``GUESSES`` lists them as ``(name, what, where)``; ``where`` names where the guess is made, as
``"module:name, name; module:name"`` in this package (``module docstring``: the decisions listed
there; tests/sandbox/microworkers_v1/test_guesses.py checks that each exists). Those whose name is
in :data:`DOCS_ONLY_OFF` are switched off when :attr:`campaignctl.sandbox.core.Settings.docs_only`
is set (the field is left out of every record); the others stay in docs-only mode.
"""
from __future__ import annotations

GUESSES: list[tuple[str, str, str]] = [
    ("v1.campaign.folder", "folder in get_info / list_extend records", "core:campaign_record"),
    ("v1.campaign.positions_done", "positions_done in get_info / list_extend records", "core:campaign_record"),
    ("v1.campaign.datetimes", "created/approved/restarted/finished/blocked datetimes and blocked_reason in records",
     "core:campaign_record"),
    ("v1.campaign.category_name", "category_name in get_info / list_extend records", "core:campaign_record"),
    ("v1.catalogs", ("the shapes of zones_list ({zone_id, zone_name, countries}), categories_list ({category_id, "
                     "category_name, min_payment_per_task, min_payment_per_zone}) and groups_list ({group_id, "
                     "group_name, workers})"), "api:zones_list, categories_list, groups_list"),
    ("v1.errors", "error strings and HTTP statuses not on the seed pages (see the api module's docstring)",
     "api:module docstring; data:WRONG_API_KEY, INPUT_DATA, SYSTEM_ERROR"),
    ("v1.fee", "the 10 % fee on payment x positions", "data:FEE_RATE"),
]

#: guesses the docs-only mode switches off
DOCS_ONLY_OFF: frozenset[str] = frozenset({
    "v1.campaign.folder", "v1.campaign.positions_done", "v1.campaign.datetimes", "v1.campaign.category_name",
})  # fmt: skip

#: fields of a v1 campaign record that are guesses (left out in docs-only mode)
V1_CAMPAIGN_GUESSED_FIELDS = (
    "folder", "positions_done", "category_name", "created_datetime", "approved_datetime", "restarted_datetime",
    "finished_datetime", "blocked_datetime", "blocked_reason",
)  # fmt: skip
