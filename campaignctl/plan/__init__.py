"""Plans: the diff between desired and live state, as resource changes and ordered operations."""
