"""The sandbox: faithful fakes of the SWARMS, Microworkers v2 and Microworkers v1 APIs.

One ASGI app (:func:`campaignctl.sandbox.app.create_app`) mounts each platform under its own
prefix and persists everything in SQLite (:class:`campaignctl.sandbox.store.Store`). It runs
in-process behind ``httpx.ASGITransport`` when a provider's endpoint is ``sandbox`` and on
loopback with ``campaignctl sandbox serve``.
"""
