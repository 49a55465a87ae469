"""Submitted work: export it and rate it, on every platform, addressed by the campaign's name.

``common`` (the campaign a command names, submissions, the :class:`~.common.Reviewer` template),
``ratings`` (ratings files with line numbers, the outcome report, the ledger), ``export``,
``rate`` (decide, describe, send, confirm), and one module per platform: ``swarms``,
``microworkers`` (API v2), ``microworkers_v1`` (legacy API v1).
"""
