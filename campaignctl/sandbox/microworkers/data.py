"""Reference data of the Microworkers API v2 sandbox: countries, zones, categories, hire groups, limits.

Everything here is static and served read-only by ``GET /basic-campaigns/configuration``,
``GET /basic-categories`` and ``GET /hire-groups``. The lists are realistic but invented (see the
module docstring of :mod:`campaignctl.sandbox.microworkers.api` for what is documented and what is a guess).
"""
from __future__ import annotations

from typing import Any

PLATFORM = "microworkers"
API_ROOT = "https://ttv.microworkers.com/api/v2"
ERROR_TYPE_BASE = f"{API_ROOT}/docs/handle-errors#"

#: Platform fee added on top of what workers earn (guess: the 7.5 % Microworkers advertises).
FEE_RATE = "0.075"

#: Documented limits (README "Basic-campaign rules", v1 new_campaign) and our guesses (marked).
LIMITS: dict[str, dict[str, int]] = {
    "availablePositions": {"min": 30},  # documented: at least 30 positions (basic)
    "hireGroupAvailablePositions": {"min": 1},  # guess: HG campaigns start from 1 worker
    "speed": {"min": 1, "max": 1000},
    "ttr": {"min": 1, "max": 30},
    "visibilityDelay": {"min": 0, "max": 3600},
    "excludedCountries": {"max": 10},
    "minutesToFinish": {"min": 1, "max": 10080},  # guess
    "successRate": {"min": 0, "max": 100},  # guess
    "timeToWaitAfterSlotExpiration": {"min": 0, "max": 1440},  # guess (minutes)
    "numberOfSubTasks": {"min": 1, "max": 100},  # guess
    "numberOfFileProofs": {"min": 0, "max": 10},  # guess
    "maxPositionPerWorker": {"min": 1, "max": 1000},  # guess
    "numberOfWorkerOnSamePosition": {"min": 1, "max": 100},  # guess
    "tasksPerRequest": {"max": 10000},  # guess
    "titleLength": {"max": 100},  # guess
    "pageSize": {"min": 1, "max": 100},
}

RATING_METHODS = [
    {"id": 1, "title": "Admin rate"},
    {"id": 2, "title": "Admin Review & Employer Rate"},
    {"id": 3, "title": "Employer rate"},
]
DISTRIBUTION_TYPES = ["random", "asap"]
TASK_ORDERS = ["random", "sequential"]
NOTIFICATION_SETTING_TYPES = ["AMAZON_SQS"]
NOTIFICATION_TYPES = [
    "SLOT_SUBMITTED",
    "SLOT_RATED",
    "CAMPAIGN_STATUS_CHANGED",
    "CAMPAIGN_FINISHED",
    "QUEUE_JOB_FINISHED",
]

COUNTRIES: dict[str, str] = {
    "AE": "United Arab Emirates", "AL": "Albania", "AR": "Argentina", "AT": "Austria",
    "AU": "Australia", "BA": "Bosnia and Herzegovina", "BB": "Barbados", "BD": "Bangladesh",
    "BE": "Belgium", "BG": "Bulgaria", "BR": "Brazil", "BS": "Bahamas", "CA": "Canada",
    "CH": "Switzerland", "CL": "Chile", "CN": "China", "CO": "Colombia", "CZ": "Czech Republic",
    "DE": "Germany", "DK": "Denmark", "DO": "Dominican Republic", "EE": "Estonia", "EG": "Egypt",
    "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom", "GH": "Ghana",
    "GR": "Greece", "HR": "Croatia", "HT": "Haiti", "HU": "Hungary", "ID": "Indonesia",
    "IE": "Ireland", "IN": "India", "IT": "Italy", "JM": "Jamaica", "JP": "Japan", "KE": "Kenya",
    "KR": "South Korea", "LK": "Sri Lanka", "LT": "Lithuania", "LV": "Latvia", "MA": "Morocco",
    "MK": "North Macedonia", "MX": "Mexico", "MY": "Malaysia", "NG": "Nigeria", "NL": "Netherlands",
    "NO": "Norway", "NP": "Nepal", "NZ": "New Zealand", "PE": "Peru", "PH": "Philippines",
    "PK": "Pakistan", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "RS": "Serbia",
    "SE": "Sweden", "SG": "Singapore", "SI": "Slovenia", "SK": "Slovakia", "TH": "Thailand",
    "TR": "Turkey", "TT": "Trinidad and Tobago", "UA": "Ukraine", "US": "United States",
    "VE": "Venezuela", "VN": "Vietnam", "ZA": "South Africa",
}

#: Targeted zones (ids documented for v1 new_campaign; their country lists are our guess).
TARGETED_ZONES: dict[str, tuple[str, list[str]]] = {
    "asia1": ("Asia 1", ["BD", "ID", "IN", "LK", "MY", "NP", "PH", "PK", "SG", "TH", "VN"]),
    "caribbean1": ("Caribbean 1", ["BB", "BS", "DO", "HT", "JM", "TT"]),
    "europe1": ("Europe 1", ["AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "NL", "NO", "PT", "SE"]),
    "europe2": ("Europe 2", ["AL", "BA", "BG", "CZ", "EE", "GR", "HR", "HU", "LT", "LV", "MK", "PL", "RO", "RS", "SI", "SK", "UA"]),
    "west1": ("West 1", ["AU", "CA", "GB", "IE", "NZ", "US"]),
}
INTERNATIONAL_ZONE = ("int", "International")


def country(code: str) -> dict[str, str]:
    return {"code": code, "name": COUNTRIES[code]}


def zone_countries(zone_id: str) -> list[str]:
    if zone_id == INTERNATIONAL_ZONE[0]:
        return sorted(COUNTRIES)
    return list(TARGETED_ZONES[zone_id][1])


def zone_name(zone_id: str) -> str:
    if zone_id == INTERNATIONAL_ZONE[0]:
        return INTERNATIONAL_ZONE[1]
    return TARGETED_ZONES[zone_id][0]


# (category id, title, [(sub-category id, title, minimum payment per task in USD)])
_CATEGORIES: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("01", "Bookmark a page", [("0101", "Bookmark a page", "0.10"), ("0102", "Bookmark and comment", "0.15")]),
    ("02", "Click and Search", [("0201", "Click and Search", "0.05"), ("0202", "Search, Click & Engage", "0.10")]),
    ("03", "Download, Install", [("0301", "Download", "0.15"), ("0302", "Download, Install & Test", "0.30")]),
    ("04", "Forums", [("0401", "Post in a forum", "0.10"), ("0402", "Register and post", "0.20")]),
    ("05", "Sign up", [("0501", "Opt-in Simple", "0.10"), ("0502", "Opt-in", "0.15"), ("0503", "Opt-in Complex", "0.30")]),
    ("06", "Social Media", [("0601", "Follow / Like", "0.05"), ("0602", "Comment / Share", "0.10")]),
    ("08", "Write an honest review", [("0801", "Short review", "0.40"), ("0802", "Long review", "1.00")]),
    ("09", "Data Collection", [("0901", "Data collection / mining", "0.08"), ("0902", "Web research", "0.12")]),
    ("10", "Surveys", [("1001", "Survey", "0.10"), ("1002", "Long survey (over 15 minutes)", "0.50")]),
    ("11", "Categorization", [("1101", "Image categorization", "0.03"), ("1102", "Text categorization", "0.03"), ("1103", "Content moderation", "0.04")]),
    ("12", "Transcription", [("1201", "Audio transcription", "0.20"), ("1202", "Image transcription", "0.05")]),
    ("13", "Testing", [("1301", "Website testing", "0.25"), ("1302", "App testing", "0.50")]),
]

#: sub-category id -> (title, minimum payment as a decimal string)
SUBCATEGORIES: dict[str, tuple[str, str]] = {sid: (title, pay) for _, _, subs in _CATEGORIES for sid, title, pay in subs}


def categories_response() -> dict[str, Any]:
    return {
        "items": [
            {
                "id": cid,
                "title": title,
                "subCategories": [
                    {"id": sid, "title": stitle, "minimumPayment": float(pay)} for sid, stitle, pay in subs
                ],
            }
            for cid, title, subs in _CATEGORIES
        ]
    }


#: Seeded hire groups: id -> (name, number of workers). The real list is per account (guess).
HIRE_GROUPS: dict[str, tuple[str, int]] = {
    "1111": ("MW: Best Workers", 1200),
    "2222": ("MW: Writers Group", 340),
    "3333": ("MW: Data Entry", 800),
    "4444": ("MW: Transcribers", 150),
    "5555": ("MW: US Workers", 420),
}


def configuration_response() -> dict[str, Any]:
    zones = [
        {
            "id": INTERNATIONAL_ZONE[0],
            "name": INTERNATIONAL_ZONE[1],
            "type": "international",
            "countries": [country(c) for c in zone_countries("int")],
        }
    ]
    zones += [
        {"id": zid, "name": name, "type": "targeted", "countries": [country(c) for c in codes]}
        for zid, (name, codes) in TARGETED_ZONES.items()
    ]
    return {
        "zones": zones,
        "countries": [country(c) for c in sorted(COUNTRIES)],
        "limits": LIMITS,
        "fee": {"rate": float(FEE_RATE)},
        "ratingMethods": RATING_METHODS,
        "distributionTypes": DISTRIBUTION_TYPES,
        "taskOrders": TASK_ORDERS,
        "notificationSettingTypes": NOTIFICATION_SETTING_TYPES,
        "notificationTypes": NOTIFICATION_TYPES,
    }
