"""Plans: the diff between desired and live state, as resource changes and ordered operations."""

#: what ``plan --format`` prints (:mod:`.output`; here, so the CLI names them without importing it)
FORMATS = ["text", "json", "markdown"]
