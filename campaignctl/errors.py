"""campaignctl's exception tree. The CLI catches :class:`CampaignctlError`, prints it, exits 1.

::

    CampaignctlError
     +-- ConfigError        one or more Diagnostics (file:line:col: message)
     +-- PlanError          the plan cannot be made or is refused by a safety check
     +-- ApiError           a platform answered with an error (code, message, request id)
     |    +-- TransportError    no usable answer (timeout, connection reset, retry budget spent)
     |    |    +-- AmbiguousWriteError   a write was sent but no answer came: it may have happened
     |    |    +-- CertificateError      the server's TLS certificate did not verify (not retried)
     |    |    +-- DeadlineError         the run's deadline (--deadline) passed (not retried)
     |    +-- ResponseTooLargeError  an answer larger than the provider's maxResponseBytes
     +-- StateError         state file unreadable, or a problem with its contents
     |    +-- LockError         the state is locked by another run
     +-- ApplyError         some operations failed (the summary names them)
"""
from __future__ import annotations

from dataclasses import dataclass


class CampaignctlError(Exception):
    """Root of every error campaignctl reports to the user without a traceback."""


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in the config, pointing at the source."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ConfigError(CampaignctlError):
    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        self.diagnostics = sorted(diagnostics) if isinstance(diagnostics, list) else [diagnostics]
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class PlanError(CampaignctlError):
    pass


class ApiError(CampaignctlError):
    """A platform rejected a call. ``str()`` names the call, the platform's code and the request id."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.request_id = request_id
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.method:
            parts.append(f"{self.method} {self.url}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        head = " -> ".join(parts)
        text = self.message
        if self.code is not None:
            text = f"[{self.code}] {text}"
        tail = f" (request id {self.request_id})" if self.request_id else ""
        return f"{head}: {text}{tail}" if head else f"{text}{tail}"

    @property
    def transient(self) -> bool:
        """No answer, a server error (a write may or may not have been applied) or a 429 refusal:
        worth trying again later; anything else is the platform's final word."""
        return isinstance(self, TransportError) or (self.status or 0) >= 500 or self.status == 429


class TransportError(ApiError):
    #: the name of the error that left no answer (``ReadTimeout``, ``ConnectError``...), when known
    reason: str = ""

    @property
    def timed_out(self) -> bool:
        """No answer came in time: every attempt already waited out its timeout."""
        return self.reason.endswith("Timeout")


class AmbiguousWriteError(TransportError):
    """A non-idempotent write (POST, PATCH) reached the platform but no answer came back (read
    timeout, connection reset after sending): it may or may not have been applied, so it is not
    retried. Look the object up (by its address) before trying again. ``method`` and ``url``
    (redacted) name the call; ``reason`` is the transport error's class name."""

    def __init__(self, message: str, *, method: str = "", url: str = "", reason: str = "") -> None:
        self.reason = reason
        super().__init__(message, method=method, url=url)


class CertificateError(TransportError):
    """The server's TLS certificate did not verify (untrusted, expired, another host's): trying
    again will not change it, so it is not retried."""

    @property
    def transient(self) -> bool:
        return False


class DeadlineError(TransportError):
    """The run's deadline (``--deadline`` / ``CAMPAIGNCTL_DEADLINE``) passed: no more calls."""

    @property
    def transient(self) -> bool:
        return False


class ResponseTooLargeError(ApiError):
    """An answer's body (as received, or once decoded) is larger than the provider's
    ``maxResponseBytes``: it was not read to its end, and is not retried."""


class StateError(CampaignctlError):
    pass


class LockError(StateError):
    pass


class ApplyError(CampaignctlError):
    pass
