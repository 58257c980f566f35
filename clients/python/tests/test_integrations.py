"""Several integrations (issue 12) through the SDK, against a real ``airlock serve`` whose
``AIRLOCK_INTEGRATIONS_FILE`` adds a ``readonly`` integration beside ``default`` (see harness.py):
``list_integrations``, the same identifier connected on both, each one's connection, token and
proxy, an unknown integration, and ids the SDK refuses before sending anything."""

from __future__ import annotations

import json
import os
import sys
import time
import unittest
from typing import Any, Dict, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from airlock_client import (  # noqa: E402
    AirlockApiError,
    AirlockClient,
    AirlockError,
    Connection,
    Integration,
    verify_webhook,
)

service: Optional[harness.Service] = None

#: Connected on both integrations in setUpModule.
SHARED = "both_py"


def setUpModule() -> None:  # noqa: N802 - unittest's naming
    global service
    service = harness.start_service()
    harness.connect(service, SHARED)
    harness.connect(service, SHARED, integration=harness.READONLY_ID)


def tearDownModule() -> None:  # noqa: N802
    if service is not None:
        service.stop()


def running() -> harness.Service:
    assert service is not None
    return service


class IntegrationsTest(unittest.TestCase):
    airlock: AirlockClient
    readonly: AirlockClient

    def setUp(self) -> None:
        self.airlock = running().client()
        self.readonly = self.airlock.for_integration(harness.READONLY_ID)

    def test_list_integrations(self) -> None:
        integrations = self.airlock.list_integrations()
        self.assertTrue(all(isinstance(i, Integration) for i in integrations))
        self.assertEqual([(i.id, i.default) for i in integrations], [("default", True), ("readonly", False)])
        readonly = integrations[1]
        self.assertEqual(
            (readonly.name, readonly.client_id, readonly.scopes),
            ("Read-only", harness.READONLY_CLIENT_ID, harness.READONLY_SCOPES),
        )
        self.assertTrue(integrations[0].client_id)
        self.assertTrue(integrations[0].scopes)
        # Not a connection route: the same list from a client on another integration.
        self.assertEqual(self.readonly.list_integrations(), integrations)

    def test_the_same_identifier_on_each_integration(self) -> None:
        default = self.airlock.get_connection(SHARED)
        theirs = self.readonly.get_connection(SHARED)
        self.assertIsInstance(theirs, Connection)
        self.assertEqual((default.integration, default.identifier, default.status), ("default", SHARED, "active"))
        self.assertEqual((theirs.integration, theirs.identifier, theirs.status), ("readonly", SHARED, "active"))
        self.assertEqual(theirs.scopes, harness.READONLY_SCOPES)
        self.assertNotEqual(default.created_at, theirs.created_at)
        self.assertEqual(self.airlock.for_integration("default").get_connection(SHARED), default)

        listed = self.readonly.list_connections(limit=200).connections
        self.assertIn(SHARED, [c.identifier for c in listed])
        self.assertEqual({c.integration for c in listed}, {"readonly"})
        self.assertEqual({c.integration for c in self.airlock.iter_connections()}, {"default"})

        events = self.readonly.list_events(SHARED)
        self.assertIn("connection.created", [e.type for e in events])
        self.assertEqual({e.id for e in events} & {e.id for e in self.airlock.list_events(SHARED)}, set())
        self.assertTrue(self.readonly.get_access_token(SHARED).access_token)
        self.assertNotEqual(
            self.readonly.get_access_token(SHARED).access_token, self.airlock.get_access_token(SHARED).access_token
        )

    def test_the_proxy_uses_the_integrations_own_token(self) -> None:
        res = self.readonly.proxy(SHARED, "GET", "/v0/meta/whoami")
        self.assertEqual(res.status, 200, res.body)
        self.assertEqual(res.body["scopes"], harness.READONLY_SCOPES)
        self.assertEqual(res.body["id"], self.readonly.get_connection(SHARED).airtable_user_id)
        mine = self.airlock.proxy(SHARED, "GET", "/v0/meta/whoami")
        self.assertEqual(mine.status, 200, mine.body)
        self.assertNotEqual(mine.body["scopes"], harness.READONLY_SCOPES)

    def test_metadata_and_disconnecting_act_on_one_integration(self) -> None:
        identifier = "meta_both_py"
        harness.connect(running(), identifier, metadata={"plan": "pro"})
        harness.connect(running(), identifier, metadata={"plan": "free"}, integration=harness.READONLY_ID)
        self.assertEqual(self.readonly.update_connection_metadata(identifier, {"seats": 2}).metadata, {"seats": 2})
        self.assertEqual(self.airlock.get_connection(identifier).metadata, {"plan": "pro"})
        self.readonly.delete_connection(identifier)
        self.assertEqual(self.readonly.get_connection(identifier).status, "revoked")
        self.assertEqual(self.airlock.get_connection(identifier).status, "active")

    def test_the_webhook_names_the_integration(self) -> None:
        data = self.created_webhook(SHARED, "readonly")
        self.assertEqual(data["identifier"], SHARED)
        self.assertNotIn("integration", self.created_webhook(SHARED, None))

    def test_an_identifier_connected_on_one_integration_only(self) -> None:
        identifier = "only_readonly_py"
        harness.connect(running(), identifier, integration=harness.READONLY_ID)
        self.assertEqual(self.readonly.get_connection(identifier).integration, "readonly")
        with self.assertRaises(AirlockApiError) as caught:
            self.airlock.get_connection(identifier)
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "not_found"))

    def test_an_unknown_integration_is_not_found_naming_the_configured_ones(self) -> None:
        nope = self.airlock.for_integration("nope")
        for call in (
            lambda: nope.get_connection(SHARED),
            lambda: nope.create_connect_session("u_nope"),
            lambda: nope.proxy(SHARED, "GET", "/v0/meta/whoami"),
        ):
            with self.assertRaises(AirlockApiError) as caught:
                call()
            error = caught.exception
            self.assertEqual((error.status, error.code), (404, "not_found"), repr(error))
            self.assertIn('"nope"', error.message)
            self.assertIn("default, readonly", error.hint)
            self.assertIn("AIRLOCK_INTEGRATIONS_FILE", error.hint)
            self.assertTrue(error.request_id)

    def test_bad_integration_ids_are_refused_locally(self) -> None:
        svc = running()
        for bad in ("", "Readonly", "read only", "../v1", "-x", "a" * 64, "read/only"):
            with self.subTest(integration=bad):
                with self.assertRaises(AirlockError) as caught:
                    self.airlock.for_integration(bad)
                self.assertNotIsInstance(caught.exception, AirlockApiError)
                self.assertEqual((caught.exception.code, caught.exception.status), ("invalid_input", None))
                self.assertIn("integration", caught.exception.message)
                self.assertIn("GET /v1/integrations", caught.exception.hint)
                with self.assertRaises(AirlockError) as caught:
                    AirlockClient(svc.url, svc.secret_key, integration=bad)
                self.assertEqual(caught.exception.code, "invalid_input")
        with self.assertRaises(AirlockError) as caught:
            self.airlock.for_integration(None)  # type: ignore[arg-type]
        self.assertEqual(caught.exception.code, "invalid_input")
        self.assertEqual(AirlockClient(svc.url, svc.secret_key, integration="a" * 63).integration, "a" * 63)

    def test_for_integration_keeps_the_settings(self) -> None:
        self.assertIsNone(self.airlock.integration)
        self.assertEqual(self.readonly.integration, "readonly")
        self.assertEqual(repr(self.readonly), f"AirlockClient({running().url!r}, integration='readonly')")
        self.assertNotIn(running().secret_key, repr(self.readonly))
        wrong = running().client("sk_wrong_" + "9f3c" * 8).for_integration("readonly")
        with self.assertRaises(AirlockApiError) as caught:
            wrong.get_connection(SHARED)
        self.assertEqual((caught.exception.status, caught.exception.code), (401, "unauthorized"))

    def created_webhook(self, identifier: str, integration: Optional[str], timeout: float = 15.0) -> Dict[str, Any]:
        """The verified ``connection.created`` delivery for this identifier on ``integration``
        (``None``: the default one, whose webhooks name no integration)."""
        svc = running()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with svc.receiver.lock:
                deliveries = list(svc.receiver.deliveries)
            for delivery in deliveries:
                body = json.loads(delivery.body)
                data = body.get("data") or {}
                if body.get("type") == "connection.created" and data.get("identifier") == identifier:
                    if data.get("integration") == integration:
                        event = verify_webhook(svc.webhook_secret, delivery.headers, delivery.body)
                        return event.data
            time.sleep(0.05)
        raise AssertionError(f"no connection.created webhook for {identifier} on {integration} within {timeout} s")


if __name__ == "__main__":
    unittest.main()
