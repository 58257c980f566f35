"""The SDK against a real ``airlock serve`` in demo mode (see harness.py): the connect flow, the
connection, a token, the proxy, paging, events, disconnecting, the service's error shapes and its
signed webhooks verified with ``verify_webhook``."""

from __future__ import annotations

import os
import sys
import unittest
from datetime import datetime, timedelta, timezone
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from airlock_client import (  # noqa: E402
    AirlockApiError,
    AirlockClient,
    AirlockError,
    Connection,
    ProxyResponse,
    WebhookVerificationError,
    verify_webhook,
)

service: Optional[harness.Service] = None


def setUpModule() -> None:  # noqa: N802 - unittest's naming
    global service
    service = harness.start_service()


def tearDownModule() -> None:  # noqa: N802
    if service is not None:
        service.stop()


def running() -> harness.Service:
    assert service is not None
    return service


class ServiceTest(unittest.TestCase):
    airlock: AirlockClient

    def setUp(self) -> None:
        self.airlock = running().client()

    def connected(self, identifier: str) -> str:
        harness.connect(running(), identifier)
        return identifier

    def assertRefused(self, error: AirlockApiError, status: int, code: str) -> None:  # noqa: N802
        self.assertEqual((error.status, error.code), (status, code), repr(error))
        self.assertTrue(error.message)
        self.assertTrue(error.hint, "the service always says what to do")
        self.assertTrue(error.request_id, "the x-request-id is kept")


class ConnectFlowTest(ServiceTest):
    def test_connect_session_then_connection(self) -> None:
        session = self.airlock.create_connect_session("flow_user", scopes=["data.records:read", "schema.bases:read"])
        self.assertTrue(session.url.startswith(f"{running().url}/connect/"), session.url)
        self.assertTrue(session.token)
        now = datetime.now(timezone.utc)
        self.assertGreater(session.expires_at, now + timedelta(minutes=25))

        self.connected("flow_user")
        connection = self.airlock.get_connection("flow_user")
        self.assertIsInstance(connection, Connection)
        self.assertEqual(connection.identifier, "flow_user")
        self.assertEqual(connection.status, "active")
        self.assertIsNone(connection.status_reason)
        self.assertIn("data.records:read", connection.scopes)
        self.assertTrue((connection.airtable_user_id or "").startswith("usr"))
        self.assertIsNotNone(connection.email)
        self.assertEqual(connection.created_at.tzinfo, timezone.utc)
        self.assertGreater(connection.access_token_expires_at, now)
        self.assertGreater(connection.refresh_token_expires_at, connection.access_token_expires_at)

    def test_expected_email(self) -> None:
        session = self.airlock.create_connect_session("expect_py", expected_email="Ada.Lovelace@Example.com")
        self.assertEqual(harness.walk(session.url)[0], 200)
        self.assertEqual(self.airlock.get_connection("expect_py").status, "active")
        session = self.airlock.create_connect_session("expect_py_other", expected_email="someone@example.com")
        status, page = harness.walk(session.url)
        self.assertEqual(status, 400)
        self.assertIn("s***@example.com", page)
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.get_connection("expect_py_other")
        self.assertRefused(caught.exception, 404, "not_found")
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.create_connect_session(
                "expect_py", scopes=["data.records:read"], expected_email="ada.lovelace@example.com"
            )
        self.assertRefused(caught.exception, 400, "invalid_input")
        self.assertIn("user.email:read", caught.exception.message)

    def test_return_url_is_passed(self) -> None:
        session = self.airlock.create_connect_session("return_user", return_url=f"{running().url}/done")
        self.assertIn("/connect/", session.url)
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.create_connect_session("return_user", return_url="https://evil.example.com/")
        self.assertRefused(caught.exception, 400, "invalid_input")

    def test_access_token(self) -> None:
        self.connected("token_user")
        token = self.airlock.get_access_token("token_user")
        self.assertTrue(token.access_token)
        self.assertGreater(token.expires_at, datetime.now(timezone.utc) + timedelta(minutes=4))


class ProxyTest(ServiceTest):
    @classmethod
    def setUpClass(cls) -> None:
        harness.connect(running(), "proxy_user")

    def test_whoami(self) -> None:
        res = self.airlock.proxy("proxy_user", "GET", "/v0/meta/whoami")
        self.assertIsInstance(res, ProxyResponse)
        self.assertEqual(res.status, 200)
        self.assertTrue(res.ok)
        self.assertTrue(res.body["id"].startswith("usr"))
        self.assertEqual(res.body["id"], self.airlock.get_connection("proxy_user").airtable_user_id)
        self.assertIn("application/json", res.headers["content-type"])
        self.assertIn(b'"id"', res.content)

    def test_json_body_and_query(self) -> None:
        bases = self.airlock.proxy("proxy_user", "get", "/v0/meta/bases").body["bases"]
        base = next(b["id"] for b in bases if b["permissionLevel"] in ("create", "edit"))
        table = self.airlock.proxy("proxy_user", "GET", f"/v0/meta/bases/{base}/tables").body["tables"][0]
        primary = next(f["name"] for f in table["fields"] if f["id"] == table["primaryFieldId"])

        created = self.airlock.proxy(
            "proxy_user",
            "POST",
            f"/v0/{base}/{table['id']}",
            json={"records": [{"fields": {primary: "Sent from Python"}}]},
        )
        self.assertEqual(created.status, 200, created.body)
        record_id = created.body["records"][0]["id"]
        self.assertTrue(record_id.startswith("rec"))

        found = self.airlock.proxy(
            "proxy_user",
            "GET",
            f"/v0/{base}/{table['id']}",
            query={"filterByFormula": f"RECORD_ID()='{record_id}'", "fields[]": [primary]},
        )
        self.assertEqual(found.status, 200, found.body)
        self.assertEqual([r["fields"] for r in found.body["records"]], [{primary: "Sent from Python"}])

    def test_airtable_errors_come_back_as_responses(self) -> None:
        res = self.airlock.proxy("proxy_user", "GET", "/v0/appNOPE0000000000/Nope")
        self.assertFalse(res.ok)
        self.assertIn(res.status, (403, 404))
        self.assertIsInstance(res.body["error"], dict)
        self.assertIn("type", res.body["error"])

    def test_paths_outside_v0_are_refused_locally(self) -> None:
        for path in ("/v1/connections", "v0/meta/whoami", "https://api.airtable.com/v0/meta/whoami", ""):
            with self.subTest(path=path), self.assertRaises(AirlockError) as caught:
                self.airlock.proxy("proxy_user", "GET", path)
            error = caught.exception
            self.assertNotIsInstance(error, AirlockApiError)
            self.assertEqual(error.code, "invalid_input")
            self.assertIsNone(error.status)
            self.assertIn("/v0/", error.message)
            self.assertIn("/v0/meta/bases", error.hint)

    def test_airlock_refusals_raise(self) -> None:
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.proxy("nobody_proxied", "GET", "/v0/meta/whoami")
        self.assertRefused(caught.exception, 404, "not_found")
        with self.assertRaises(AirlockApiError) as caught:
            # The service's own path check, past the SDK's: a dot segment in an encoding.
            self.airlock.proxy("proxy_user", "GET", "/v0/%2e%2e/v1/connections")
        self.assertRefused(caught.exception, 400, "invalid_input")


class ListingTest(ServiceTest):
    @classmethod
    def setUpClass(cls) -> None:
        for name in ("page_a", "page_b", "page_c", "page_d", "page_e"):
            harness.connect(running(), name)

    def test_pages_and_iterator(self) -> None:
        seen = []
        cursor: Optional[str] = None
        pages = 0
        while True:
            page = self.airlock.list_connections(limit=2, cursor=cursor)
            self.assertLessEqual(len(page.connections), 2)
            seen.extend(c.identifier for c in page.connections)
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        self.assertGreaterEqual(pages, 3)
        self.assertEqual(seen, sorted(seen), "ordered by identifier")
        self.assertEqual(len(seen), len(set(seen)), "no connection twice")
        self.assertEqual([i for i in seen if i.startswith("page_")], ["page_a", "page_b", "page_c", "page_d", "page_e"])
        self.assertEqual([c.identifier for c in self.airlock.iter_connections(limit=2)], seen)
        self.assertEqual([c.identifier for c in self.airlock.iter_connections()], seen)

    def test_status_filter(self) -> None:
        active = self.airlock.list_connections(status="active", limit=200).connections
        self.assertTrue(all(c.status == "active" for c in active))
        self.assertIn("page_a", [c.identifier for c in active])

    def test_events(self) -> None:
        events = self.airlock.list_events("page_a")
        self.assertGreaterEqual(len(events), 1)
        self.assertIn("connection.created", [e.type for e in events])
        first = events[0]
        self.assertTrue(first.id)
        self.assertIsInstance(first.data, dict)
        self.assertEqual(first.created_at.tzinfo, timezone.utc)
        self.assertEqual(len(self.airlock.list_events("page_a", limit=1)), 1)


class DisconnectTest(ServiceTest):
    def test_delete_then_reconnect(self) -> None:
        self.connected("delete_user")
        self.assertIsNone(self.airlock.delete_connection("delete_user"))
        connection = self.airlock.get_connection("delete_user")
        self.assertEqual((connection.status, connection.status_reason), ("revoked", "disconnected"))
        self.assertIn("delete_user", [c.identifier for c in self.airlock.iter_connections(status="revoked")])
        self.assertIn("connection.deleted", [e.type for e in self.airlock.list_events("delete_user")])

        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.get_access_token("delete_user")
        self.assertRefused(caught.exception, 409, "reauth_required")
        self.assertTrue(caught.exception.is_reauth_required)
        self.assertFalse(caught.exception.retryable)
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.proxy("delete_user", "GET", "/v0/meta/whoami")
        self.assertRefused(caught.exception, 409, "reauth_required")

        self.airlock.delete_connection("delete_user")  # again: nothing happens
        self.connected("delete_user")  # a new link reactivates it in place
        self.assertEqual(self.airlock.get_connection("delete_user").status, "active")

    def test_delete_unknown(self) -> None:
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.delete_connection("never_connected")
        self.assertRefused(caught.exception, 404, "not_found")


class ErrorShapeTest(ServiceTest):
    def test_not_found(self) -> None:
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.get_connection("nobody_here")
        error = caught.exception
        self.assertRefused(error, 404, "not_found")
        self.assertIn("nobody_here", error.message)
        self.assertIsInstance(error, AirlockError)
        self.assertEqual(error.to_dict()["code"], "not_found")

    def test_wrong_key(self) -> None:
        wrong = running().client("sk_wrong_" + "9f3c" * 8)
        with self.assertRaises(AirlockApiError) as caught:
            wrong.list_connections()
        self.assertRefused(caught.exception, 401, "unauthorized")
        self.assertIn("AIRLOCK_SECRET_KEY", caught.exception.hint)
        self.assertNotIn(wrong._secret_key, repr(wrong))

    def test_invalid_input(self) -> None:
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.list_connections(limit=0)
        self.assertRefused(caught.exception, 400, "invalid_input")
        self.assertIn("limit", caught.exception.message)
        self.assertEqual(caught.exception.details.get("target"), "query")
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.create_connect_session("x" * 300)
        self.assertRefused(caught.exception, 400, "invalid_input")
        self.assertIn("identifier", caught.exception.message)

    def test_empty_identifier_is_refused_locally(self) -> None:
        with self.assertRaises(AirlockError) as caught:
            self.airlock.get_connection("")
        self.assertEqual((caught.exception.code, caught.exception.status), ("invalid_input", None))


class MetadataTest(ServiceTest):
    def test_session_metadata_reaches_the_connection_and_its_webhook(self) -> None:
        svc = running()
        metadata = {"team_id": "t_42", "plan": "pro", "tags": ["a", "b"]}
        harness.connect(svc, "meta_py", metadata=metadata)
        self.assertEqual(self.airlock.get_connection("meta_py").metadata, metadata)
        listed = [c for c in self.airlock.iter_connections() if c.identifier == "meta_py"]
        self.assertEqual(listed[0].metadata, metadata)
        delivery = svc.receiver.wait_for("connection.created", "meta_py")
        event = verify_webhook(svc.webhook_secret, delivery.headers, delivery.body)
        self.assertEqual(event.data["metadata"], metadata)

    def test_update_replaces_and_none_clears(self) -> None:
        self.connected("meta_py_update")
        self.assertIsNone(self.airlock.get_connection("meta_py_update").metadata)
        updated = self.airlock.update_connection_metadata("meta_py_update", {"plan": "team"})
        self.assertIsInstance(updated, Connection)
        self.assertEqual(updated.metadata, {"plan": "team"})
        self.assertEqual(self.airlock.update_connection_metadata("meta_py_update", {"seats": 3}).metadata, {"seats": 3})
        self.assertIsNone(self.airlock.update_connection_metadata("meta_py_update", None).metadata)
        self.assertIsNone(self.airlock.get_connection("meta_py_update").metadata)

    def test_refusals_name_the_fix(self) -> None:
        self.connected("meta_py_bad")
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.update_connection_metadata("meta_py_bad", {"blob": "x" * 5000})
        self.assertRefused(caught.exception, 400, "invalid_input")
        self.assertIn("4 KiB", caught.exception.message)
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.create_connect_session("meta_py_bad", metadata={f"k{i}": i for i in range(51)})
        self.assertRefused(caught.exception, 400, "invalid_input")
        self.assertIn("fewer keys", caught.exception.hint)
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.update_connection_metadata("meta_py_nobody", {"a": 1})
        self.assertRefused(caught.exception, 404, "not_found")


class WebhookDeliveryTest(ServiceTest):
    def test_real_deliveries_verify(self) -> None:
        svc = running()
        self.connected("hook_user")
        delivery = svc.receiver.wait_for("connection.created", "hook_user")
        event = verify_webhook(svc.webhook_secret, delivery.headers, delivery.body)
        self.assertEqual(event.type, "connection.created")
        self.assertEqual(event.data["identifier"], "hook_user")
        self.assertTrue(event.id.startswith("evt_"))
        self.assertIn(event.id, [e.id for e in self.airlock.list_events("hook_user")])

        other = "whsec_" + "b3RoZXIgc2VjcmV0IG9mIDMyIGJ5dGVzIGxvbmchIQ=="
        self.assertEqual(verify_webhook([other, svc.webhook_secret], dict(delivery.headers), delivery.body), event)
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook(other, delivery.headers, delivery.body)
        self.assertEqual(caught.exception.reason, "invalid_signature")
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook(svc.webhook_secret, delivery.headers, delivery.body.replace(b"hook_user", b"hook_usex"))
        self.assertEqual(caught.exception.reason, "invalid_signature")

        self.airlock.delete_connection("hook_user")
        deleted = svc.receiver.wait_for("connection.deleted", "hook_user")
        self.assertEqual(verify_webhook(svc.webhook_secret, deleted.headers, deleted.body).type, "connection.deleted")


if __name__ == "__main__":
    unittest.main()
