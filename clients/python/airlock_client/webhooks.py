"""Verifying Airlock's webhooks on the receiving side.

Standard Webhooks (https://www.standardwebhooks.com): HMAC-SHA256 over
``"<webhook-id>.<webhook-timestamp>.<body>"``, ``v1,<base64>`` signatures in ``webhook-signature``
(several, space-separated, while the sender rotates), ``whsec_<base64>`` secrets. The same checks,
in the same order and with the same reasons, as ``verifyWebhook`` in ``@airlock/client``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, List, Literal, Optional, Protocol, Sequence, Tuple, Union, cast

from .errors import AirlockError, AirlockErrorCode

WebhookVerificationReason = Literal[
    "missing_headers",
    "invalid_timestamp",
    "stale_timestamp",
    "invalid_signature",
    "invalid_secret",
    "invalid_payload",
]
"""Why a webhook was rejected."""

_CODE_BY_REASON: Dict[str, AirlockErrorCode] = {
    "missing_headers": "invalid_input",
    "invalid_timestamp": "invalid_input",
    "stale_timestamp": "unauthorized",
    "invalid_signature": "unauthorized",
    "invalid_secret": "config_invalid",
    "invalid_payload": "invalid_input",
}

_SECRET_PREFIX = "whsec_"
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")

class SupportsHeaderItems(Protocol):
    """Anything with ``items()`` yielding ``(name, value)``: a dict, Flask/Werkzeug's or Django's
    ``request.headers``, ``http.client.HTTPMessage``, ``email.message.Message``."""

    def items(self) -> Iterable[Tuple[Any, Any]]: ...


#: Headers as anything with ``items()`` (a value may be a list of values), or a list of
#: ``(name, value)`` pairs (ASGI-style; bytes are decoded). Names match case-insensitively.
WebhookHeaders = Union[SupportsHeaderItems, Iterable[Tuple[Union[str, bytes], Union[str, bytes]]]]

#: The raw body exactly as received, before any JSON parsing.
RawBody = Union[bytes, bytearray, memoryview, str]


class WebhookVerificationError(AirlockError):
    """Raised by :func:`verify_webhook`; ``reason`` says which check failed. Answer the sender with 400."""

    reason: WebhookVerificationReason

    def __init__(self, reason: WebhookVerificationReason, message: str, hint: str) -> None:
        super().__init__(_CODE_BY_REASON[reason], message, hint=hint, details={"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class WebhookEvent:
    """A verified event. Switch on ``type``; a newer service may send a type this SDK does not know."""

    id: str
    """``webhook-id``: stable across retries, deduplicate on it."""
    type: str
    """``connection.created``, ``connection.reauth_required``, ``airtable.payloads``, …"""
    timestamp: str
    """ISO 8601 time the event happened (not when it was sent)."""
    data: Dict[str, Any]
    """The event's data; always has ``identifier``."""


def verify_webhook(
    secret_or_secrets: Union[str, Sequence[str]],
    headers: WebhookHeaders,
    raw_body: RawBody,
    tolerance_seconds: float = 300,
    *,
    now: Optional[datetime] = None,
) -> WebhookEvent:
    """Checks a webhook's signature and freshness, then parses it.

    Pass the body exactly as received (raw bytes or text, before any JSON parsing).
    ``secret_or_secrets`` may be a list while you rotate secrets; any one of them may match.
    ``now`` replaces the clock (tests).

    Example (Flask)::

        @app.post("/hooks/airlock")
        def airlock_hook():
            try:
                event = verify_webhook(os.environ["AIRLOCK_WEBHOOK_SECRET"], request.headers, request.get_data())
            except WebhookVerificationError as err:
                return err.reason, 400
            if event.type == "connection.reauth_required":
                ask_user_to_reconnect(event.data["identifier"])
            return "", 204
    """
    webhook_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signature_text = _header(headers, "webhook-signature")
    if not webhook_id or not timestamp_text or not signature_text:
        raise WebhookVerificationError(
            "missing_headers",
            "The request lacks webhook-id, webhook-timestamp or webhook-signature.",
            "Pass the request's headers unchanged; a proxy in front of your receiver may be stripping them.",
        )
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise WebhookVerificationError(
            "invalid_timestamp",
            "webhook-timestamp is not a whole number of seconds.",
            "Pass the request's headers unchanged.",
        )
    now_seconds = math.floor(now.timestamp() if now is not None else time.time())
    if abs(now_seconds - int(timestamp_text)) > tolerance_seconds:
        raise WebhookVerificationError(
            "stale_timestamp",
            f"webhook-timestamp is more than {_number(tolerance_seconds)} seconds away from now.",
            "Check this machine's clock (NTP); a replayed old request is also rejected this way.",
        )

    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    signed = f"{webhook_id}.{timestamp_text}.".encode("utf-8") + body
    candidates = [_lenient_b64decode(part[3:]) for part in signature_text.split(" ") if part.startswith("v1,")]
    secrets = [secret_or_secrets] if isinstance(secret_or_secrets, str) else list(secret_or_secrets)
    keys = [_decode_secret(secret) for secret in secrets]
    matched = False
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for candidate in candidates:
            # Constant-time compare; the length check leaks only the (public) digest size.
            if len(candidate) == len(expected) and hmac.compare_digest(candidate, expected):
                matched = True
    if not matched:
        raise WebhookVerificationError(
            "invalid_signature",
            "No webhook-signature matches this body and secret.",
            "Use the same AIRLOCK_WEBHOOK_SECRET as the service, and verify the raw body before parsing it.",
        )

    try:
        parsed: Any = json.loads(body.decode("utf-8", errors="replace"), parse_constant=_reject_constant)
    except ValueError:
        raise WebhookVerificationError(
            "invalid_payload", "The signed body is not JSON.", "Report this as a bug."
        ) from None
    if not _is_event_body(parsed):
        raise WebhookVerificationError(
            "invalid_payload",
            "The signed body is not an Airlock event ({type, timestamp, data.identifier}).",
            "Check that AIRLOCK_WEBHOOK_URL points at the receiver meant for Airlock.",
        )
    return WebhookEvent(id=webhook_id, type=parsed["type"], timestamp=parsed["timestamp"], data=parsed["data"])


def _header(headers: WebhookHeaders, name: str) -> Optional[str]:
    """The header's value, several occurrences joined with a space; ``None`` when absent."""
    pairs: Iterable[Tuple[Any, Any]]
    items = getattr(headers, "items", None)
    pairs = items() if callable(items) else headers  # type: ignore[assignment]
    found: List[str] = []
    for key, value in pairs:
        key_text = key.decode("latin-1") if isinstance(key, (bytes, bytearray)) else str(key)
        if key_text.lower() != name:
            continue
        if isinstance(value, (bytes, bytearray)):
            found.append(value.decode("latin-1"))
        elif isinstance(value, str):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(str(v) for v in cast(Sequence[Any], value))
        elif value is not None:
            found.append(str(value))
    return " ".join(found) if found else None


def _decode_secret(secret: str) -> bytes:
    """As the Standard Webhooks libraries do: an optional ``whsec_`` prefix, then base64."""
    trimmed = secret.strip()
    encoded = trimmed[len(_SECRET_PREFIX) :] if trimmed.startswith(_SECRET_PREFIX) else trimmed
    key = _lenient_b64decode(encoded) if _BASE64.fullmatch(encoded) else b""
    if len(key) == 0:
        raise WebhookVerificationError(
            "invalid_secret",
            "The webhook secret is not base64 (whsec_<base64>).",
            "Pass the exact AIRLOCK_WEBHOOK_SECRET value the service uses.",
        )
    return key


def _lenient_b64decode(text: str) -> bytes:
    """Base64 decoded the way Node's ``Buffer.from(text, "base64")`` does it: the URL-safe alphabet
    too, other characters skipped, padding optional, stopping at the first ``=``."""
    cleaned = _NOT_BASE64.sub("", text.split("=", 1)[0].replace("-", "+").replace("_", "/"))
    cleaned = cleaned[: len(cleaned) - 1] if len(cleaned) % 4 == 1 else cleaned
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - cleaned is always decodable
        return b""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_event_body(value: Any) -> bool:
    """The envelope only: ``data`` is the service's, typed by ``type`` (a newer type passes through)."""
    if not isinstance(value, dict):
        return False
    body = cast(Dict[str, Any], value)
    data: Any = body.get("data")
    return (
        isinstance(body.get("type"), str)
        and isinstance(body.get("timestamp"), str)
        and isinstance(data, dict)
        and isinstance(cast(Dict[str, Any], data).get("identifier"), str)
    )


def _number(value: float) -> str:
    """``300`` for 300.0, as JavaScript prints numbers."""
    return str(int(value)) if float(value).is_integer() else str(value)


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: Union[str, bytes]) -> str:
    """The ``webhook-signature`` value the service sends for one message (``v1,<base64>``).

    For tests of your receiver: sign a body as Airlock would, then feed it to :func:`verify_webhook`.

    Example::

        body = '{"type":"connection.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"identifier":"u1"}}'
        headers = {"webhook-id": "evt_1", "webhook-timestamp": str(int(time.time())),
                   "webhook-signature": sign_webhook(secret, "evt_1", int(time.time()), body)}
    """
    payload = body.encode("utf-8") if isinstance(body, str) else body
    mac = hmac.new(_decode_secret(secret), f"{webhook_id}.{timestamp}.".encode("utf-8") + payload, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")
