"""A typed client for the Airlock service's HTTP API (``/v1/*``), standard library only.

The Python twin of ``AirlockClient`` in ``@airlock/client``: the same methods in snake_case,
results as frozen dataclasses with ``datetime`` values (UTC), failures as :class:`AirlockApiError`
with the service's ``code``, ``message``, ``hint``, ``status`` and ``details``. Nothing is retried
for you, ``Retry-After`` included (it is on the error as ``retry_after``).
"""

from __future__ import annotations

import json as jsonlib
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from http.client import HTTPException
from typing import Any, Callable, Dict, Iterator, List, Literal, Mapping, Optional, Sequence, Tuple, TypeVar, Union, cast

from .errors import AirlockApiError, AirlockError, api_error_from, parse_retry_after, read_error_envelope

ConnectionStatus = Literal["active", "reauth_required", "revoked"]
"""``active`` works; ``reauth_required`` needs the user to reconnect; ``revoked`` was disconnected."""

_CONNECTION_STATUSES: Tuple[str, ...] = ("active", "reauth_required", "revoked")

#: Query values for :meth:`AirlockClient.proxy`: a list repeats the parameter (``fields[]=a&fields[]=b``).
QueryValue = Union[str, int, float, bool, Sequence[Union[str, int, float]]]


@dataclass(frozen=True)
class Connection:
    """One end user's Airtable connection, without its tokens."""

    identifier: str
    status: ConnectionStatus
    status_reason: Optional[str]
    """Why the status is not ``active`` (``invalid_grant``, ``refresh_expired``, ``disconnected``…)."""
    scopes: List[str]
    airtable_user_id: Optional[str]
    email: Optional[str]
    access_token_expires_at: datetime
    """For a ``revoked`` connection: when it was disconnected (its tokens are gone)."""
    refresh_token_expires_at: datetime
    """For a ``revoked`` connection: when it was disconnected (its tokens are gone)."""
    last_refreshed_at: Optional[datetime]
    created_at: datetime
    metadata: Optional[Dict[str, Any]] = None
    """Your app's JSON object for the connection (``None``: none). Airlock never looks inside it."""
    integration: str = "default"
    """The integration it was made with: ``default`` (the service's AIRTABLE_* one) or an id from
    :meth:`AirlockClient.list_integrations`. A connection is keyed by (integration, identifier)."""


@dataclass(frozen=True)
class Integration:
    """An Airtable OAuth integration the service acts for (``GET /v1/integrations``)."""

    id: str
    """``default`` for the service's AIRTABLE_* integration; else its id in AIRLOCK_INTEGRATIONS_FILE."""
    name: str
    client_id: str
    scopes: List[str]
    """Its scopes: connect sessions ask for these or a subset."""
    default: bool
    """True for ``default``, the one a client without ``integration`` acts on."""


@dataclass(frozen=True)
class ConnectSession:
    """A one-time "Connect your Airtable" link for one end user (single use, 30 minutes)."""

    token: str
    """The secret part of the link; shown once."""
    url: str
    """Send the end user's browser here."""
    expires_at: datetime


@dataclass(frozen=True)
class AccessToken:
    """An Airtable access token valid for at least five more minutes."""

    access_token: str
    expires_at: datetime


@dataclass(frozen=True)
class ConnectionPage:
    """One page of connections; pass ``next_cursor`` back as ``cursor`` for the next one."""

    connections: List[Connection]
    next_cursor: Optional[str]


@dataclass(frozen=True)
class ConnectionEvent:
    """One entry of a connection's history (connected, refreshed, reauth_required, deleted…)."""

    id: str
    type: str
    data: Dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ProxyResponse:
    """Airtable's answer through the proxy, 4xx included (only Airlock's own refusals raise)."""

    status: int
    headers: Dict[str, str]
    """Response headers, names lower-cased (a repeated header's values joined with ``", "``)."""
    body: Any
    """The parsed JSON when the answer is JSON, else the text (``None`` when empty)."""
    content: bytes
    """The raw body."""

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds from ``Retry-After`` (Airtable sends it with 429), or ``None``. Not waited for you."""
        return parse_retry_after(self.headers.get("retry-after"))


class _WireShapeError(Exception):
    """A response body differs from what the SDK expects; ``path`` is dotted (``connections.0.scopes``)."""

    def __init__(self, path: str, expected: str) -> None:
        super().__init__(f"{path or '(body)'}: expected {expected}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: it would carry the secret key to wherever it points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Message
    content: bytes


T = TypeVar("T")

#: An integration id: lower-case letters, digits, ``-`` and ``_``, at most 63 characters.
_INTEGRATION_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class AirlockClient:
    """A typed client for the Airlock service's HTTP API. Keep the secret key on your server.

    ``timeout`` bounds each request in seconds (a timeout is a ``transient`` error, like any network
    failure). ``opener`` replaces ``urllib``'s (tests, proxies, instrumentation); it must not follow
    redirects. ``integration`` is the integration whose connections the client acts on (an id
    :meth:`list_integrations` returns); ``None`` is ``default``, the service's AIRTABLE_* one. See
    :meth:`for_integration`.

    Example::

        from airlock_client import AirlockClient

        airlock = AirlockClient("http://localhost:4000", os.environ["AIRLOCK_SECRET_KEY"])
        session = airlock.create_connect_session("user_123")
        # ... send the user to session.url; once they are back:
        res = airlock.proxy("user_123", "GET", "/v0/meta/bases")
        print(res.body)
    """

    def __init__(
        self,
        base_url: str,
        secret_key: str,
        *,
        timeout: float = 60.0,
        opener: Optional[urllib.request.OpenerDirector] = None,
        integration: Optional[str] = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url) if _is_text(base_url) else None
        if parsed is None or not parsed.scheme or not parsed.netloc:
            raise AirlockError(
                "invalid_input",
                f"base_url is not a URL: {base_url}",
                hint="Pass the service's address, e.g. http://localhost:4000.",
            )
        if parsed.scheme not in ("http", "https"):
            raise AirlockError(
                "invalid_input",
                f"base_url must be http(s), got {parsed.scheme}:",
                hint="Pass the service's address, e.g. https://airlock.example.com.",
            )
        if not secret_key:
            raise AirlockError(
                "invalid_input",
                "secret_key is empty.",
                hint="Pass the service's AIRLOCK_SECRET_KEY (printed by `airlock serve` on first start).",
            )
        if integration is not None and (not _is_text(integration) or not _INTEGRATION_ID.fullmatch(integration)):
            raise AirlockError(
                "invalid_input",
                f"integration is not an integration id: {integration}",
                hint="Pass an id GET /v1/integrations lists, e.g. readonly (lower-case letters, digits, - and _).",
            )
        self._base_url = base_url.rstrip("/")
        self._origin = f"{parsed.scheme}://{parsed.netloc}"
        self._secret_key = secret_key
        self._timeout = timeout
        self._given_opener = opener
        self._opener = opener or urllib.request.build_opener(_NoRedirects())
        self._integration = integration
        # `/v1`, or `/v1/integrations/<id>` for another integration's connection routes.
        self._v1 = "/v1" if integration is None else f"/v1/integrations/{integration}"

    def __repr__(self) -> str:  # never the key
        if self._integration is None:
            return f"AirlockClient({self._base_url!r})"
        return f"AirlockClient({self._base_url!r}, integration={self._integration!r})"

    @property
    def integration(self) -> Optional[str]:
        """The integration this client acts on, as given (``None``: ``default``)."""
        return self._integration

    def for_integration(self, integration: str) -> "AirlockClient":
        """The same client (URL, key, timeout, opener) acting on another integration's connections.

        Its connect sessions, connections, events, access tokens, metadata and proxy calls go to
        ``/v1/integrations/<integration>/…``; :meth:`list_integrations` is shared. The id is checked
        here (``invalid_input``); one the service does not know raises ``not_found`` on the first
        call, naming the configured ones.

        Example::

            readonly = airlock.for_integration("readonly")
            session = readonly.create_connect_session("user_123")
            readonly.get_connection("user_123").integration  # "readonly", once they connected
        """
        if not _is_text(integration):
            raise AirlockError(
                "invalid_input",
                f"integration is not an integration id: {integration!r}",
                hint="Pass an id GET /v1/integrations lists, e.g. readonly (lower-case letters, digits, - and _).",
            )
        return AirlockClient(
            self._base_url,
            self._secret_key,
            timeout=self._timeout,
            opener=self._given_opener,
            integration=integration,
        )

    def list_integrations(self) -> List[Integration]:
        """The integrations the service acts for, ``default`` (its AIRTABLE_* one) first.

        More come from the file ``AIRLOCK_INTEGRATIONS_FILE`` names; reach one's connections with
        :meth:`for_integration`.

        Example::

            ids = [i.id for i in airlock.list_integrations()]  # ["default", "readonly"]
        """
        return self._json("GET", "/v1/integrations", _read_integration_list)

    def create_connect_session(
        self,
        identifier: str,
        scopes: Optional[Sequence[str]] = None,
        return_url: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        expected_email: Optional[str] = None,
    ) -> ConnectSession:
        """Creates a one-time "Connect your Airtable" link for one end user.

        Send their browser to ``url``; they approve on Airtable and come back to ``return_url`` with
        ``status=connected`` (or ``status=error&error=…``). Connecting an identifier that already
        exists reconnects it in place (that is how a ``reauth_required`` connection is repaired).
        ``metadata`` (a JSON object: at most 4 KiB as JSON, 50 top-level keys) is put on the
        connection when the user has connected, replacing its own; ``None`` keeps a reconnected
        connection's metadata. ``expected_email`` (compared case-insensitively; needs the
        ``user.email:read`` scope) makes a consent by any other Airtable account connect nothing:
        the browser comes back with ``status=error&error=wrong_account``.

        Example::

            session = airlock.create_connect_session(
                "user_123", scopes=["data.records:read", "schema.bases:read"],
                return_url="https://app.example.com/settings/airtable")
            return redirect(session.url)
        """
        _require_identifier(identifier)
        body: Dict[str, Any] = {"identifier": identifier}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if return_url is not None:
            body["return_url"] = return_url
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if expected_email is not None:
            body["expected_email"] = expected_email
        return self._json("POST", f"{self._v1}/connect-sessions", _read_connect_session, body)

    def list_connections(
        self,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        status: Optional[ConnectionStatus] = None,
    ) -> ConnectionPage:
        """One page of connections, ordered by identifier.

        Example::

            page = airlock.list_connections(status="reauth_required", limit=50)
            more = airlock.list_connections(cursor=page.next_cursor) if page.next_cursor else None
        """
        query: List[Tuple[str, str]] = []
        if limit is not None:
            query.append(("limit", str(limit)))
        if cursor is not None:
            query.append(("cursor", cursor))
        if status is not None:
            query.append(("status", status))
        qs = f"?{urllib.parse.urlencode(query)}" if query else ""
        return self._json("GET", f"{self._v1}/connections{qs}", _read_connection_page)

    def iter_connections(
        self, limit: Optional[int] = None, status: Optional[ConnectionStatus] = None
    ) -> Iterator[Connection]:
        """Every connection, page after page (``limit`` is the page size).

        Example::

            for connection in airlock.iter_connections(status="reauth_required"):
                notify_user(connection.identifier)
        """
        cursor: Optional[str] = None
        while True:
            page = self.list_connections(limit=limit, cursor=cursor, status=status)
            yield from page.connections
            cursor = page.next_cursor
            if cursor is None:
                return

    def get_connection(self, identifier: str) -> Connection:
        """One connection: status, scopes, Airtable user, expiry times. Raises ``not_found`` when unknown.

        Example::

            if airlock.get_connection("user_123").status == "reauth_required":
                show_reconnect_button()
        """
        _require_identifier(identifier)
        return self._json("GET", f"{self._v1}/connections/{_quote(identifier)}", _read_connection)

    def update_connection_metadata(self, identifier: str, metadata: Optional[Mapping[str, Any]]) -> Connection:
        """Replaces a connection's metadata as a whole (no merge); ``None`` clears it.

        Returns the connection. Raises ``invalid_input`` (not an object, over 4 KiB or 50 keys, with
        the fix in ``hint``) or ``not_found``.

        Example::

            airlock.update_connection_metadata("user_123", {"plan": "team"})
            airlock.update_connection_metadata("user_123", None)  # cleared
        """
        _require_identifier(identifier)
        body: Dict[str, Any] = {"metadata": None if metadata is None else dict(metadata)}
        return self._json("PATCH", f"{self._v1}/connections/{_quote(identifier)}", _read_connection, body)

    def list_events(self, identifier: str, limit: Optional[int] = None) -> List[ConnectionEvent]:
        """A connection's recent history (connected, refreshed, reauth_required…), newest first.

        Example::

            for event in airlock.list_events("user_123", limit=20):
                print(event.created_at.isoformat(), event.type)
        """
        _require_identifier(identifier)
        qs = "" if limit is None else f"?limit={limit}"
        return self._json("GET", f"{self._v1}/connections/{_quote(identifier)}/events{qs}", _read_event_list)

    def delete_connection(self, identifier: str) -> None:
        """Disconnects: the connection stays, as ``revoked``, tokens erased and history kept.

        :meth:`proxy` and :meth:`get_access_token` then raise ``reauth_required``, and a new connect
        link reactivates it. Disconnecting again does nothing; an identifier that never connected
        raises ``not_found``.

        Example::

            airlock.delete_connection("user_123")
        """
        _require_identifier(identifier)
        answer = self._send("DELETE", f"{self._v1}/connections/{_quote(identifier)}")
        if not 200 <= answer.status < 300:
            raise _api_error(answer)

    def get_access_token(self, identifier: str) -> AccessToken:
        """An Airtable access token valid for at least five minutes, refreshed first when needed.

        Use it when you must call Airtable yourself; :meth:`proxy` does this for you. Raises with
        ``code == "reauth_required"`` (``is_reauth_required``) when the user must connect again.

        Example::

            token = airlock.get_access_token("user_123")
            urllib.request.Request("https://api.airtable.com/v0/meta/whoami",
                                   headers={"Authorization": f"Bearer {token.access_token}"})
        """
        _require_identifier(identifier)
        return self._json("POST", f"{self._v1}/connections/{_quote(identifier)}/access-token", _read_access_token)

    def proxy(
        self,
        identifier: str,
        method: str,
        path: str,
        json: Any = None,
        query: Optional[Mapping[str, QueryValue]] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> ProxyResponse:
        """Calls Airtable's Web API as the user, through the service's proxy.

        The service injects a fresh token, refreshes and retries once on a 401, and passes 429 with
        ``Retry-After`` through (not waited for here). ``path`` is an Airtable path starting with
        ``/v0/``; ``json`` is sent as the JSON body. Airtable's answers (4xx included) come back as
        a :class:`ProxyResponse`; Airlock's own refusals (``reauth_required``, ``not_found``,
        ``unauthorized``…) raise :class:`AirlockApiError`.

        Example::

            res = airlock.proxy("user_123", "POST", "/v0/appXXXXXXXXXXXXXX/Tasks",
                                json={"records": [{"fields": {"Name": "Write README"}}]})
            if not res.ok:
                raise RuntimeError(f"Airtable said {res.status}: {res.body}")
        """
        _require_identifier(identifier)
        if not _is_text(path) or not path.startswith("/v0/"):
            raise AirlockError(
                "invalid_input",
                f"path must be an Airtable API path starting with /v0/, got {path}",
                hint='Pass the part after https://api.airtable.com, e.g. "/v0/meta/bases".',
            )
        target = f"{self._v1}/proxy/{_quote(identifier)}{path}"
        if query:
            separator = "&" if "?" in path else "?"
            target += separator + urllib.parse.urlencode(_query_pairs(query))
        extra = dict(headers or {})
        body: Optional[bytes] = None
        if json is not None:
            body = jsonlib.dumps(json).encode("utf-8")
            if not any(name.lower() == "content-type" for name in extra):
                extra["Content-Type"] = "application/json"
        answer = self._send(method.upper(), target, body=body, headers=extra, accept=None)
        if not 200 <= answer.status < 300 and _is_airlock_refusal(answer):
            raise _api_error(answer)
        return ProxyResponse(
            status=answer.status,
            headers=_header_dict(answer.headers),
            body=_parse_body(answer),
            content=answer.content,
        )

    # -- the wire ---------------------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        read: Callable[[Any, str], T],
        body: Optional[Dict[str, Any]] = None,
    ) -> T:
        payload = None if body is None else jsonlib.dumps(body).encode("utf-8")
        headers = {} if payload is None else {"Content-Type": "application/json"}
        answer = self._send(method, path, body=payload, headers=headers)
        if not 200 <= answer.status < 300:
            raise _api_error(answer)
        request_id = answer.headers.get("x-request-id")
        try:
            parsed = jsonlib.loads(answer.content.decode("utf-8"))
        except ValueError:
            raise AirlockApiError(
                answer.status,
                "internal",
                f"{method} {path} answered with a body that is not JSON.",
                hint="Check that base_url points at the Airlock service and not at another server or proxy.",
                request_id=request_id,
            ) from None
        try:
            return read(parsed, "")
        except _WireShapeError as error:
            raise AirlockApiError(
                answer.status,
                "internal",
                f"{method} {path} answered with an unexpected shape.",
                hint="Use an SDK version that matches the service version.",
                request_id=request_id,
                details={"issues": [str(error)]},
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Optional[bytes] = None,
        headers: Optional[Mapping[str, str]] = None,
        accept: Optional[str] = "application/json",
    ) -> _Answer:
        request = urllib.request.Request(f"{self._base_url}{path}", data=body, method=method)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if accept is not None:
            request.add_header("Accept", accept)
        request.add_header("Authorization", f"Bearer {self._secret_key}")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return _Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:  # a non-2xx answer: still an answer
            try:
                content = error.read()
            except (OSError, HTTPException, AttributeError):
                content = b""
            finally:
                error.close()
            return _Answer(error.code, error.headers, content)
        except (urllib.error.URLError, HTTPException, socket.timeout, OSError) as cause:
            # The URL's origin carries no secret (the key travels in a header), so it is safe to name.
            raise AirlockError(
                "transient",
                f"Could not reach the Airlock service at {self._origin}.",
                hint="Check that `airlock serve` is running and that base_url is right.",
                details={"cause": _describe(cause)},
            ) from cause


# -- helpers ---------------------------------------------------------------------------------------


def _is_text(value: object) -> bool:
    """For callers without a type checker: a runtime check of what the hints promise."""
    return isinstance(value, str)


def _require_identifier(identifier: str) -> None:
    if not _is_text(identifier) or len(identifier) == 0:
        raise AirlockError("invalid_input", "identifier is empty.", hint="Pass your id for the end user, e.g. user_123.")


def _quote(segment: str) -> str:
    """As JavaScript's ``encodeURIComponent``."""
    return urllib.parse.quote(segment, safe="!~*'()")


def _query_pairs(query: Mapping[str, QueryValue]) -> List[Tuple[str, str]]:
    pairs: List[Tuple[str, str]] = []
    for name, value in query.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            pairs.append((name, _query_text(item)))
    return pairs


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _describe(cause: BaseException) -> str:
    reason = getattr(cause, "reason", None)
    return type(reason if isinstance(reason, BaseException) else cause).__name__


def _header_dict(headers: Message) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _is_json(answer: _Answer) -> bool:
    return "application/json" in (answer.headers.get("content-type") or "").lower()


def _loads(answer: _Answer) -> Any:
    try:
        return jsonlib.loads(answer.content.decode("utf-8"))
    except ValueError:
        return None


def _parse_body(answer: _Answer) -> Any:
    if not answer.content:
        return None
    if _is_json(answer):
        parsed = _loads(answer)
        if parsed is not None or answer.content.strip() == b"null":
            return parsed
    charset = answer.headers.get_content_charset() or "utf-8"
    return answer.content.decode(charset, errors="replace")


def _is_airlock_refusal(answer: _Answer) -> bool:
    """Airlock's envelope has ``error.code``; Airtable's own errors have ``error.type`` or a string."""
    return _is_json(answer) and read_error_envelope(_loads(answer)) is not None


def _api_error(answer: _Answer) -> AirlockApiError:
    payload = _loads(answer) if answer.content else None
    return api_error_from(
        answer.status,
        payload,
        request_id=answer.headers.get("x-request-id"),
        retry_after=parse_retry_after(answer.headers.get("retry-after")),
    )


# -- readers: every response is checked before it reaches your code ---------------------------------


def _at(path: str, key: Union[str, int]) -> str:
    return str(key) if path == "" else f"{path}.{key}"


def _record(value: Any, path: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise _WireShapeError(path, "an object")
    return cast(Dict[str, Any], value)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _WireShapeError(path, "a string")
    return value


def _optional_text(value: Any, path: str) -> Optional[str]:
    return None if value is None else _text(value, path)


def _date(value: Any, path: str) -> datetime:
    text = _text(value, path)
    try:
        # Python 3.9/3.10 fromisoformat does not take "Z".
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise _WireShapeError(path, "an ISO 8601 date") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _optional_date(value: Any, path: str) -> Optional[datetime]:
    return None if value is None else _date(value, path)


def _list(value: Any, path: str, item: Callable[[Any, str], T]) -> List[T]:
    if not isinstance(value, list):
        raise _WireShapeError(path, "an array")
    entries = cast(List[Any], value)
    return [item(entry, _at(path, index)) for index, entry in enumerate(entries)]


def _read_connection(value: Any, path: str) -> Connection:
    c = _record(value, path)
    status = _text(c.get("status"), _at(path, "status"))
    if status not in _CONNECTION_STATUSES:
        raise _WireShapeError(_at(path, "status"), f"one of {', '.join(_CONNECTION_STATUSES)}")
    return Connection(
        identifier=_text(c.get("identifier"), _at(path, "identifier")),
        status=cast(ConnectionStatus, status),
        status_reason=_optional_text(c.get("status_reason"), _at(path, "status_reason")),
        scopes=_list(c.get("scopes"), _at(path, "scopes"), _text),
        airtable_user_id=_optional_text(c.get("airtable_user_id"), _at(path, "airtable_user_id")),
        email=_optional_text(c.get("email"), _at(path, "email")),
        access_token_expires_at=_date(c.get("access_token_expires_at"), _at(path, "access_token_expires_at")),
        refresh_token_expires_at=_date(c.get("refresh_token_expires_at"), _at(path, "refresh_token_expires_at")),
        last_refreshed_at=_optional_date(c.get("last_refreshed_at"), _at(path, "last_refreshed_at")),
        created_at=_date(c.get("created_at"), _at(path, "created_at")),
        metadata=None if c.get("metadata") is None else _record(c.get("metadata"), _at(path, "metadata")),
        # A service from before several integrations sends none: its connections are all `default`'s.
        integration="default" if "integration" not in c else _text(c.get("integration"), _at(path, "integration")),
    )


def _read_connection_page(value: Any, path: str) -> ConnectionPage:
    page = _record(value, path)
    return ConnectionPage(
        connections=_list(page.get("connections"), _at(path, "connections"), _read_connection),
        next_cursor=_optional_text(page.get("next_cursor"), _at(path, "next_cursor")),
    )


def _read_connect_session(value: Any, path: str) -> ConnectSession:
    s = _record(value, path)
    return ConnectSession(
        token=_text(s.get("token"), _at(path, "token")),
        url=_text(s.get("url"), _at(path, "url")),
        expires_at=_date(s.get("expires_at"), _at(path, "expires_at")),
    )


def _read_access_token(value: Any, path: str) -> AccessToken:
    t = _record(value, path)
    return AccessToken(
        access_token=_text(t.get("access_token"), _at(path, "access_token")),
        expires_at=_date(t.get("expires_at"), _at(path, "expires_at")),
    )


def _read_event(value: Any, path: str) -> ConnectionEvent:
    e = _record(value, path)
    data = e.get("data")
    return ConnectionEvent(
        id=_text(e.get("id"), _at(path, "id")),
        type=_text(e.get("type"), _at(path, "type")),
        data={} if data is None else _record(data, _at(path, "data")),
        created_at=_date(e.get("created_at"), _at(path, "created_at")),
    )


def _read_event_list(value: Any, path: str) -> List[ConnectionEvent]:
    return _list(_record(value, path).get("events"), _at(path, "events"), _read_event)


def _read_integration(value: Any, path: str) -> Integration:
    i = _record(value, path)
    default = i.get("default")
    if not isinstance(default, bool):
        raise _WireShapeError(_at(path, "default"), "a boolean")
    return Integration(
        id=_text(i.get("id"), _at(path, "id")),
        name=_text(i.get("name"), _at(path, "name")),
        client_id=_text(i.get("client_id"), _at(path, "client_id")),
        scopes=_list(i.get("scopes"), _at(path, "scopes"), _text),
        default=default,
    )


def _read_integration_list(value: Any, path: str) -> List[Integration]:
    return _list(_record(value, path).get("integrations"), _at(path, "integrations"), _read_integration)
