"""What the client sends and how it reads answers the real service rarely gives (a 503 with
Retry-After, a proxy's HTML page, an unknown code, a wrong shape, a redirect, a dead port, a
timeout), against a stub server on 127.0.0.1. Nothing is retried: one request per call."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import unittest
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402,F401 - puts the SDK on sys.path

from airlock_client import AirlockApiError, AirlockClient, AirlockError  # noqa: E402

Canned = Tuple[int, Dict[str, str], bytes]


class Stub:
    """Answers each path with a canned response and records every request."""

    def __init__(self) -> None:
        self.routes: Dict[str, Canned] = {}
        self.requests: List[Dict[str, object]] = []
        self.delay = 0.0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                stub.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length),
                    }
                )
                if stub.delay:
                    time.sleep(stub.delay)
                status, headers, body = stub.routes.get(self.path.split("?")[0], (404, {}, b""))
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
                    pass

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = handle_any  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def json(self, path: str, status: int, body: object, headers: Optional[Dict[str, str]] = None) -> None:
        self.routes[path] = (status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def envelope(code: str, message: str = "It went wrong.", hint: str = "Do this.", **details: object) -> object:
    error: Dict[str, object] = {"code": code, "message": message, "hint": hint}
    if details:
        error["details"] = details
    return {"error": error}


CONNECTION = {
    "identifier": "u1",
    "status": "active",
    "status_reason": None,
    "scopes": ["data.records:read"],
    "airtable_user_id": "usr1",
    "email": None,
    "access_token_expires_at": "2026-01-01T01:00:00.000Z",
    "refresh_token_expires_at": "2026-03-01T00:00:00.000Z",
    "last_refreshed_at": None,
    "created_at": "2026-01-01T00:00:00Z",
}


class StubTest(unittest.TestCase):
    def setUp(self) -> None:
        self.stub = Stub()
        self.airlock = AirlockClient(self.stub.url + "/", "sk_stub_key", timeout=5)

    def tearDown(self) -> None:
        self.stub.close()

    def raised(self, call: "object") -> AirlockError:
        with self.assertRaises(AirlockError) as caught:
            call()  # type: ignore[operator]
        return caught.exception


class RequestsTest(StubTest):
    def test_what_is_sent(self) -> None:
        self.stub.json("/v1/connect-sessions", 201, {"token": "t", "url": "http://x/connect/t", "expires_at": "2026-01-01T00:30:00.000Z"})
        session = self.airlock.create_connect_session("u1", scopes=["data.records:read"], return_url="http://x/done")
        self.assertEqual(session.token, "t")
        sent = self.stub.requests[0]
        self.assertEqual(sent["method"], "POST")
        headers = sent["headers"]
        assert isinstance(headers, dict)
        self.assertEqual(headers["authorization"], "Bearer sk_stub_key")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(headers["accept"], "application/json")
        self.assertEqual(
            json.loads(sent["body"]),  # type: ignore[arg-type]
            {"identifier": "u1", "scopes": ["data.records:read"], "return_url": "http://x/done"},
        )

    def test_identifiers_are_encoded_like_encodeURIComponent(self) -> None:
        self.stub.json("/v1/connections/a%40b%3Ac%2Bd%2Fe%20f!~*'()", 200, CONNECTION)
        self.airlock.get_connection("a@b:c+d/e f!~*'()")
        self.assertEqual(self.stub.requests[0]["path"], "/v1/connections/a%40b%3Ac%2Bd%2Fe%20f!~*'()")

    def test_list_query(self) -> None:
        self.stub.json("/v1/connections", 200, {"connections": [CONNECTION], "next_cursor": None})
        page = self.airlock.list_connections(limit=5, cursor="u0", status="active")
        self.assertEqual(self.stub.requests[0]["path"], "/v1/connections?limit=5&cursor=u0&status=active")
        self.assertEqual(page.connections[0].created_at.isoformat(), "2026-01-01T00:00:00+00:00")
        self.assertIsNone(page.next_cursor)

    def test_proxy_query_headers_and_json(self) -> None:
        self.stub.json("/v1/proxy/u1/v0/appX/Tasks", 200, {"records": []})
        res = self.airlock.proxy(
            "u1",
            "patch",
            "/v0/appX/Tasks",
            json={"records": []},
            query={"fields[]": ["Name", "Notes"], "maxRecords": 3, "typecast": True},
            headers={"X-Extra": "1"},
        )
        self.assertEqual((res.status, res.body), (200, {"records": []}))
        sent = self.stub.requests[0]
        self.assertEqual(sent["method"], "PATCH")
        self.assertEqual(
            sent["path"], "/v1/proxy/u1/v0/appX/Tasks?fields%5B%5D=Name&fields%5B%5D=Notes&maxRecords=3&typecast=true"
        )
        headers = sent["headers"]
        assert isinstance(headers, dict)
        self.assertEqual((headers["content-type"], headers["x-extra"]), ("application/json", "1"))
        self.assertEqual(headers["authorization"], "Bearer sk_stub_key")


    def test_an_integration_prefixes_the_connection_routes(self) -> None:
        readonly = self.airlock.for_integration("readonly")
        v1 = "/v1/integrations/readonly"
        session = {"token": "t", "url": "http://x/connect/t", "expires_at": "2026-01-01T00:30:00.000Z"}
        self.stub.json(f"{v1}/connect-sessions", 201, session)
        self.stub.json(f"{v1}/connections", 200, {"connections": [], "next_cursor": None})
        self.stub.json(f"{v1}/connections/u1", 200, {**CONNECTION, "integration": "readonly"})
        self.stub.json(f"{v1}/connections/u1/events", 200, {"events": []})
        self.stub.json(f"{v1}/connections/u1/access-token", 200, {"access_token": "a", "expires_at": "2026-01-01T01:00:00Z"})
        self.stub.json(f"{v1}/proxy/u1/v0/meta/whoami", 200, {"id": "usr1"})
        self.stub.json("/v1/integrations", 200, {"integrations": []})
        readonly.create_connect_session("u1")
        readonly.list_connections(limit=1)
        self.assertEqual(readonly.get_connection("u1").integration, "readonly")
        readonly.update_connection_metadata("u1", {"a": 1})
        readonly.list_events("u1", limit=2)
        readonly.get_access_token("u1")
        readonly.proxy("u1", "GET", "/v0/meta/whoami")
        self.stub.routes[f"{v1}/connections/u1"] = (204, {}, b"")
        readonly.delete_connection("u1")
        self.assertEqual(readonly.list_integrations(), [])  # not a connection route: under /v1
        self.assertEqual(
            [(r["method"], r["path"]) for r in self.stub.requests],
            [
                ("POST", f"{v1}/connect-sessions"),
                ("GET", f"{v1}/connections?limit=1"),
                ("GET", f"{v1}/connections/u1"),
                ("PATCH", f"{v1}/connections/u1"),
                ("GET", f"{v1}/connections/u1/events?limit=2"),
                ("POST", f"{v1}/connections/u1/access-token"),
                ("GET", f"{v1}/proxy/u1/v0/meta/whoami"),
                ("DELETE", f"{v1}/connections/u1"),
                ("GET", "/v1/integrations"),
            ],
        )
        headers = self.stub.requests[0]["headers"]
        assert isinstance(headers, dict)
        self.assertEqual(headers["authorization"], "Bearer sk_stub_key")

    def test_list_integrations_and_a_connection_without_integration(self) -> None:
        entry = {"id": "readonly", "name": "Read-only", "client_id": "c", "scopes": ["data.records:read"], "default": False}
        self.stub.json("/v1/integrations", 200, {"integrations": [{**entry, "routes": "/v1/integrations/readonly"}]})
        (integration,) = self.airlock.list_integrations()
        self.assertEqual(
            (integration.id, integration.name, integration.client_id, integration.scopes, integration.default),
            ("readonly", "Read-only", "c", ["data.records:read"], False),
        )
        self.stub.json("/v1/integrations", 200, {"integrations": [{**entry, "default": "no"}]})
        error = self.raised(self.airlock.list_integrations)
        self.assertEqual(error.code, "internal")
        self.assertEqual(error.details, {"issues": ["integrations.0.default: expected a boolean"]})
        # A service from before several integrations sends none: the connection is default's.
        self.stub.json("/v1/connections/u1", 200, CONNECTION)
        self.assertEqual(self.airlock.get_connection("u1").integration, "default")


class AnswersTest(StubTest):
    def test_retry_after_is_exposed_not_honoured(self) -> None:
        self.stub.json(
            "/v1/connections/u1/access-token",
            503,
            envelope("transient", "Airtable is slow.", "Retry with backoff.", waited_ms=10000),
            {"Retry-After": "7", "X-Request-Id": "req-1"},
        )
        error = self.raised(lambda: self.airlock.get_access_token("u1"))
        assert isinstance(error, AirlockApiError)
        self.assertEqual(
            (error.status, error.code, error.message, error.hint),
            (503, "transient", "Airtable is slow.", "Retry with backoff."),
        )
        self.assertEqual((error.retry_after, error.retryable, error.request_id), (7.0, True, "req-1"))
        self.assertEqual(error.details, {"waited_ms": 10000})
        self.assertEqual(len(self.stub.requests), 1, "no automatic retry")

    def test_retry_after_as_a_date(self) -> None:
        when = formatdate(time.time() + 120, usegmt=True)
        self.stub.json("/v1/connections", 429, envelope("rate_limited"), {"Retry-After": when})
        error = self.raised(self.airlock.list_connections)
        assert isinstance(error, AirlockApiError)
        self.assertEqual(error.code, "rate_limited")
        self.assertIsNotNone(error.retry_after)
        self.assertTrue(100 < (error.retry_after or 0) <= 120, error.retry_after)
        self.assertEqual(len(self.stub.requests), 1)

    def test_not_an_airlock_error(self) -> None:
        cases = [(502, "transient"), (504, "timeout"), (404, "not_found"), (401, "unauthorized"), (409, "conflict"), (418, "api_error")]
        for status, code in cases:
            self.stub.routes["/v1/connections/u1"] = (status, {"Content-Type": "text/html"}, b"<h1>Bad gateway</h1>")
            with self.subTest(status=status):
                error = self.raised(lambda: self.airlock.get_connection("u1"))
                self.assertEqual((error.status, error.code), (status, code))
                self.assertEqual(error.message, f"The service answered HTTP {status}.")
                self.assertIn("base_url", error.hint)

    def test_an_unknown_code(self) -> None:
        self.stub.json("/v1/connections/u1", 400, envelope("brand_new", field="x"))
        error = self.raised(lambda: self.airlock.get_connection("u1"))
        self.assertEqual((error.code, error.details), ("internal", {"field": "x", "wire_code": "brand_new"}))

    def test_a_body_that_is_not_json_or_has_another_shape(self) -> None:
        self.stub.routes["/v1/connections/u1"] = (200, {"Content-Type": "text/plain"}, b"hello")
        error = self.raised(lambda: self.airlock.get_connection("u1"))
        self.assertEqual((error.status, error.code), (200, "internal"))
        self.assertIn("not JSON", error.message)
        self.stub.json("/v1/connections/u1", 200, {**CONNECTION, "status": "paused"})
        error = self.raised(lambda: self.airlock.get_connection("u1"))
        self.assertEqual(error.code, "internal")
        self.assertEqual(error.details, {"issues": ["status: expected one of active, reauth_required, revoked"]})
        self.stub.json("/v1/connections", 200, {"connections": [{**CONNECTION, "scopes": [1]}], "next_cursor": None})
        error = self.raised(self.airlock.list_connections)
        self.assertEqual(error.details, {"issues": ["connections.0.scopes.0: expected a string"]})

    def test_redirects_are_not_followed(self) -> None:
        self.stub.routes["/v1/connections/u1"] = (302, {"Location": "/elsewhere"}, b"")
        error = self.raised(lambda: self.airlock.get_connection("u1"))
        self.assertEqual((error.status, error.code), (302, "api_error"))
        self.assertEqual([r["path"] for r in self.stub.requests], ["/v1/connections/u1"])

    def test_proxy_passes_airtable_answers_through(self) -> None:
        self.stub.json(
            "/v1/proxy/u1/v0/meta/bases",
            429,
            {"errors": [{"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded."}]},
            {"Retry-After": "30"},
        )
        res = self.airlock.proxy("u1", "GET", "/v0/meta/bases")
        self.assertEqual((res.status, res.ok, res.retry_after), (429, False, 30.0))
        self.assertEqual(res.body["errors"][0]["error"], "RATE_LIMIT_REACHED")
        self.stub.json("/v1/proxy/u1/v0/meta/whoami", 404, {"error": "NOT_FOUND"})
        self.assertEqual(self.airlock.proxy("u1", "GET", "/v0/meta/whoami").body, {"error": "NOT_FOUND"})
        self.stub.routes["/v1/proxy/u1/v0/x"] = (200, {"Content-Type": "text/csv; charset=utf-8"}, "a,é".encode())
        self.assertEqual(self.airlock.proxy("u1", "GET", "/v0/x").body, "a,é")
        self.stub.routes["/v1/proxy/u1/v0/empty"] = (204, {}, b"")
        self.assertIsNone(self.airlock.proxy("u1", "DELETE", "/v0/empty").body)
        self.assertEqual(len(self.stub.requests), 4, "no automatic retry")

    def test_proxy_raises_airlock_refusals(self) -> None:
        self.stub.json("/v1/proxy/u1/v0/meta/whoami", 409, envelope("reauth_required"), {"X-Request-Id": "r9"})
        error = self.raised(lambda: self.airlock.proxy("u1", "GET", "/v0/meta/whoami"))
        assert isinstance(error, AirlockApiError)
        self.assertEqual((error.status, error.code, error.is_reauth_required, error.request_id), (409, "reauth_required", True, "r9"))


class NetworkTest(unittest.TestCase):
    def test_a_dead_port_is_transient(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        airlock = AirlockClient(f"http://127.0.0.1:{port}", "sk_key", timeout=5)
        with self.assertRaises(AirlockError) as caught:
            airlock.list_connections()
        error = caught.exception
        self.assertNotIsInstance(error, AirlockApiError)
        self.assertEqual((error.code, error.status, error.retryable), ("transient", None, True))
        self.assertEqual(error.message, f"Could not reach the Airlock service at http://127.0.0.1:{port}.")
        self.assertIn("airlock serve", error.hint)
        self.assertIsNotNone(error.__cause__)
        self.assertNotIn("sk_key", repr(error) + str(error) + error.hint + json.dumps(error.details))

    def test_a_timeout_is_transient(self) -> None:
        stub = Stub()
        stub.delay = 1.5
        try:
            with self.assertRaises(AirlockError) as caught:
                AirlockClient(stub.url, "sk_key", timeout=0.3).get_connection("u1")
            self.assertEqual(caught.exception.code, "transient")
        finally:
            stub.close()

    def test_bad_settings_are_refused(self) -> None:
        for base_url, secret in (("localhost:4000", "k"), ("not a url", "k"), ("ftp://host", "k"), ("http://host", "")):
            with self.subTest(base_url=base_url), self.assertRaises(AirlockError) as caught:
                AirlockClient(base_url, secret)
            self.assertEqual(caught.exception.code, "invalid_input")
            self.assertTrue(caught.exception.hint)


if __name__ == "__main__":
    unittest.main()
