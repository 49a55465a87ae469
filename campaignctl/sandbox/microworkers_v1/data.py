"""Static reference data of the Microworkers legacy API v1 sandbox: zones, countries, categories,
hire groups, prices and the error strings. See :mod:`campaignctl.sandbox.microworkers_v1.api` for the guesses."""

from __future__ import annotations

PLATFORM = "microworkers-v1"

STATUSES = (
    "BLOCKED",
    "PENDING_REVIEW",
    "PENDING_RESTART",
    "PAUSED",
    "PAUSED_ADMIN",
    "RUNNING",
    "PAUSED_SYSTEM",
    "FINISHED",
)
FOLDERS = ("DEFAULT", "ARCHIVE")
AUTO_RATES = ("NO", "V", "V+R")
FILE_PROOFS = ("0", "1", "2")
DESCRIPTION_TYPES = ("SAME", "UNIQUE")
RATINGS = ("OK", "NOK", "REVISE")
TASK_RATINGS = ("OK", "NOK", "NOTRATED", "REVISE")

FEE_RATE = 0.10  # guess: Microworkers' fee on top of payment_per_task * positions
MIN_POSITIONS_BASIC = 31  # the page says "Must be higher than 30"
MAX_SPEED = 1000
MAX_TTR = 30
MAX_MINUTES_TO_FINISH = 10080  # guess: one week
MAX_ADD_POSITIONS = 100_000  # guess for "NUMBER OF POSITIONS OUT OF RANGE"
MAX_REQUIRED_PROOFS_HG = 3  # the hg new_campaign page: "up to 3 proofs per position"
LIST_TASKS_MAX = 200
LIST_TASKS_EXTEND_MAX = 50_000

COUNTRY_NAMES: dict[str, str] = {
    "IN": "India",
    "PK": "Pakistan",
    "BD": "Bangladesh",
    "ID": "Indonesia",
    "PH": "Philippines",
    "VN": "Vietnam",
    "MY": "Malaysia",
    "TH": "Thailand",
    "LK": "Sri Lanka",
    "NP": "Nepal",
    "CN": "China",
    "JM": "Jamaica",
    "TT": "Trinidad and Tobago",
    "DO": "Dominican Republic",
    "BS": "Bahamas",
    "BB": "Barbados",
    "HT": "Haiti",
    "DE": "Germany",
    "FR": "France",
    "IT": "Italy",
    "ES": "Spain",
    "NL": "Netherlands",
    "BE": "Belgium",
    "AT": "Austria",
    "SE": "Sweden",
    "DK": "Denmark",
    "FI": "Finland",
    "PT": "Portugal",
    "CH": "Switzerland",
    "PL": "Poland",
    "RO": "Romania",
    "BG": "Bulgaria",
    "RS": "Serbia",
    "UA": "Ukraine",
    "HU": "Hungary",
    "CZ": "Czech Republic",
    "SK": "Slovakia",
    "HR": "Croatia",
    "BA": "Bosnia and Herzegovina",
    "MK": "North Macedonia",
    "LT": "Lithuania",
    "LV": "Latvia",
    "EE": "Estonia",
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "AU": "Australia",
    "NZ": "New Zealand",
    "IE": "Ireland",
    "NG": "Nigeria",
    "KE": "Kenya",
    "EG": "Egypt",
    "MA": "Morocco",
    "ZA": "South Africa",
    "BR": "Brazil",
    "MX": "Mexico",
    "AR": "Argentina",
    "CO": "Colombia",
    "VE": "Venezuela",
    "TR": "Turkey",
    "SY": "Syria",
}

_TARGETED: dict[str, tuple[str, tuple[str, ...]]] = {
    "asia1": ("Asia", ("IN", "PK", "BD", "ID", "PH", "VN", "MY", "TH", "LK", "NP", "CN")),
    "caribbean1": ("Caribbean", ("JM", "TT", "DO", "BS", "BB", "HT")),
    "europe1": ("Western Europe", ("DE", "FR", "IT", "ES", "NL", "BE", "AT", "SE", "DK", "FI", "PT", "CH")),
    "europe2": ("Eastern Europe", ("PL", "RO", "BG", "RS", "UA", "HU", "CZ", "SK", "HR", "BA", "MK", "LT", "LV", "EE")),
    "west1": ("USA, Canada, UK, Australia, New Zealand, Ireland", ("US", "CA", "GB", "AU", "NZ", "IE")),
}
ZONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "asia1": _TARGETED["asia1"],
    "caribbean1": _TARGETED["caribbean1"],
    "europe1": _TARGETED["europe1"],
    "europe2": _TARGETED["europe2"],
    "int": ("International", tuple(sorted(COUNTRY_NAMES))),
    "west1": _TARGETED["west1"],
}
# multiplies a category's base minimum payment (guess)
ZONE_PAYMENT_FACTOR: dict[str, float] = {
    "asia1": 1.0,
    "caribbean1": 1.0,
    "europe1": 1.5,
    "europe2": 1.0,
    "int": 1.0,
    "west1": 2.0,
}

# category id -> (name, base minimum payment per task in USD)
CATEGORIES: dict[str, tuple[str, float]] = {
    "1001": ("Sign up", 0.10),
    "1002": ("Click or Search", 0.03),
    "1003": ("Bookmark a page", 0.04),
    "1004": ("Facebook", 0.05),
    "1005": ("Twitter", 0.05),
    "1006": ("YouTube", 0.05),
    "1007": ("Data Mining / Extraction", 0.10),
    "1008": ("Survey", 0.15),
    "1009": ("Testing", 0.20),
    "1010": ("Write an article", 0.50),
    "1011": ("Content moderation", 0.05),
    "1012": ("Categorize / Tag", 0.03),
    "1013": ("Transcription", 0.10),
}

# hire groups of the sandbox account: id -> (name, workers in the group)
DEFAULT_GROUPS: dict[str, tuple[str, int]] = {
    "1111": ("Data entry specialists", 120),
    "2222": ("Spanish translators", 45),
    "3333": ("Image moderators", 300),
    "4444": ("Audio transcribers", 80),
}


def min_payment(category: str, zone: str | None) -> float:
    """Minimum payment per task for a category in a zone (hire-group campaigns: zone None)."""
    base = CATEGORIES[category][1]
    factor = ZONE_PAYMENT_FACTOR.get(zone or "int", 1.0)
    return round(base * factor, 2)


# error strings (documented on the Microworkers v1 pages unless marked as a guess in api.py; :mod:`.guesses`)
NO_SUCH_CAMPAIGN = "NO SUCH CAMPAIGN"
ARCHIVED_CAMPAIGN = "ARCHIVED CAMPAIGN"
NOT_RUNNING_OR_PAUSED = "CAMPAIGN NOT RUNNING OR PAUSED"
NOT_RUNNING = "CAMPAIGN NOT RUNNING"
NOT_PAUSED = "CAMPAIGN NOT PAUSED"
NOT_FINISHED = "CAMPAIGN NOT FINISHED"
STATUS_ERROR = "CAMPAIGN STATUS ERROR"
UNKNOWN_GROUP = "UNKNOWN GROUP"
INPUT_DATA = "INPUT_DATA"
INPUT_DATA_SPACE = "INPUT DATA"
SYSTEM_ERROR = "SYSTEM ERROR"
NOT_ENOUGH_FUNDS = "NOT ENOUGH FUNDS"
POSITIONS_OUT_OF_RANGE = "NUMBER OF POSITIONS OUT OF RANGE"
INCORRECT_SPEED = "INCORRECT SPEED VALUE"
NO_CAMPAIGNS = "NO CAMPAIGNS"
NO_TASKS = "NO TASKS"
NO_SUCH_TASK = "NO SUCH TASK"
WRONG_API_KEY = "WRONG API KEY"
