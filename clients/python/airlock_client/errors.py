"""The SDK's error family, as in the TypeScript SDK (``@airlock/client``).

:class:`AirlockError` carries a machine ``code`` and a human ``hint`` that says what to do next;
:class:`AirlockApiError` is what the service answered (``status``, ``request_id``, ``retry_after``).
``WebhookVerificationError`` (in :mod:`airlock_client.webhooks`) is an ``AirlockError`` too.

Example::

    try:
        token = airlock.get_access_token("user_123")
    except AirlockError as err:
        if err.code == "reauth_required":
            send_reconnect_email("user_123")
        else:
            raise
"""

from __future__ import annotations

import email.utils
import time
from typing import Any, Dict, FrozenSet, Literal, Mapping, Optional, cast, get_args

AirlockErrorCode = Literal[
    "config_invalid",
    "invalid_input",
    "invalid_client",
    "invalid_scope",
    "access_denied",
    "invalid_state",
    "invalid_grant",
    "authorization_failed",
    "reauth_required",
    "transient",
    "rate_limited",
    "api_error",
    "unauthorized",
    "not_found",
    "conflict",
    "payload_too_large",
    "unsupported_media_type",
    "not_logged_in",
    "port_in_use",
    "timeout",
    "cancelled",
    "internal",
]
"""Every code an Airlock error may carry (the same list as the TypeScript SDK's ``AirlockErrorCode``)."""

#: Codes the service may send (all but the CLI's own); anything else is reported as ``internal``
#: with the wire code in ``details``.
KNOWN_CODES: FrozenSet[str] = frozenset(get_args(AirlockErrorCode)) - {"not_logged_in", "port_in_use", "cancelled"}

_RETRYABLE_BY_DEFAULT: FrozenSet[str] = frozenset({"transient", "rate_limited", "timeout"})


class AirlockError(Exception):
    """An error with a machine ``code`` and a human ``hint`` that says what to do next.

    ``status`` is the HTTP status when the service answered (``None`` for a local refusal or a
    network failure); ``details`` is extra machine-readable detail (never a secret).

    Example::

        raise AirlockError("invalid_input", "identifier is empty.", hint="Pass your id for the end user.")
    """

    code: AirlockErrorCode
    message: str
    hint: str
    status: Optional[int]
    details: Dict[str, Any]
    retryable: bool

    def __init__(
        self,
        code: AirlockErrorCode,
        message: str,
        *,
        hint: str = "",
        status: Optional[int] = None,
        details: Optional[Mapping[str, Any]] = None,
        retryable: Optional[bool] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.status = status
        self.details = dict(details) if details is not None else {}
        self.retryable = code in _RETRYABLE_BY_DEFAULT if retryable is None else retryable

    @property
    def is_reauth_required(self) -> bool:
        """True when the user must authorize again: send them a new connect link."""
        return self.code == "reauth_required"

    def to_dict(self) -> Dict[str, Any]:
        """The JSON shape used on the wire: ``{code, message, hint}`` (plus ``details`` when present)."""
        out: Dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint}
        if self.details:
            out["details"] = dict(self.details)
        return out

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        status = "" if self.status is None else f", status={self.status}"
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}{status})"


class AirlockApiError(AirlockError):
    """An error answer from the Airlock service: the HTTP ``status``, the service's ``code``,
    ``message``, ``hint`` and ``details``, its ``request_id`` (``x-request-id``, to match a failure
    to its log line) and ``retry_after`` (seconds from its ``Retry-After`` header, or ``None``).

    Nothing is retried for you: wait ``retry_after`` yourself if you want to try again.

    Example::

        try:
            airlock.get_connection("user_123")
        except AirlockApiError as err:
            if err.status == 404:
                ...
    """

    request_id: Optional[str]
    retry_after: Optional[float]

    def __init__(
        self,
        status: int,
        code: AirlockErrorCode,
        message: str,
        *,
        hint: str = "",
        details: Optional[Mapping[str, Any]] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        # The service knows best; 5xx and 429 are worth another try even when the code says otherwise.
        retryable = status == 429 or status >= 500 or code in ("transient", "rate_limited")
        super().__init__(code, message, hint=hint, status=status, details=details, retryable=retryable)
        self.request_id = request_id
        self.retry_after = retry_after


def fallback_code(status: int) -> AirlockErrorCode:
    """The code for an error answer that is not Airlock's envelope (a proxy's page, an empty body)."""
    if status in (401, 403):
        return "unauthorized"
    if status == 404:
        return "not_found"
    if status == 409:
        return "conflict"
    if status == 413:
        return "payload_too_large"
    if status == 415:
        return "unsupported_media_type"
    if status == 429:
        return "rate_limited"
    if status == 504:
        return "timeout"
    if status >= 500:
        return "transient"
    return "api_error"


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date), or ``None``."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def read_error_envelope(payload: Any) -> Optional[Dict[str, Any]]:
    """Airlock's envelope ``{error: {code, message, hint?, details?}}``, or ``None`` for anything else.

    Airtable's own errors (passed through by the proxy) carry ``error.type`` or a bare string, not
    ``error.code``, so they read as ``None``.
    """
    if not isinstance(payload, dict):
        return None
    error: Any = cast(Dict[str, Any], payload).get("error")
    if not isinstance(error, dict):
        return None
    fields = cast(Dict[str, Any], error)
    code, message = fields.get("code"), fields.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        return None
    envelope: Dict[str, Any] = {"code": code, "message": message}
    hint, details = fields.get("hint"), fields.get("details")
    if hint is not None:
        if not isinstance(hint, str):
            return None
        envelope["hint"] = hint
    if details is not None:
        if not isinstance(details, dict):
            return None
        envelope["details"] = details
    return envelope


def api_error_from(
    status: int,
    payload: Any,
    *,
    request_id: Optional[str],
    retry_after: Optional[float],
) -> AirlockApiError:
    """The :class:`AirlockApiError` for an error answer (its JSON ``payload``, or ``None``)."""
    envelope = read_error_envelope(payload)
    if envelope is None:
        return AirlockApiError(
            status,
            fallback_code(status),
            f"The service answered HTTP {status}.",
            hint="Check that base_url points at the Airlock service; the response was not an Airlock error.",
            request_id=request_id,
            retry_after=retry_after,
        )
    wire_code: str = envelope["code"]
    details: Dict[str, Any] = dict(envelope.get("details") or {})
    code: AirlockErrorCode = "internal"
    if wire_code in KNOWN_CODES:
        code = cast(AirlockErrorCode, wire_code)
    else:
        details["wire_code"] = wire_code
    return AirlockApiError(
        status,
        code,
        envelope["message"],
        hint=envelope.get("hint", ""),
        details=details,
        request_id=request_id,
        retry_after=retry_after,
    )
