"""Config: YAML files -> documents (with file:line:col) -> validated, resolved desired resources."""
