"""``verify_webhook`` on known Standard Webhooks vectors: the spec's own example and signatures the
service's ``signWebhook`` (src/server/webhooks.ts) produced for these bodies; the same checks, order
and reasons as ``verifyWebhook`` in packages/client/src/webhooks.ts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sys
import time
import unittest
from datetime import datetime, timezone
from email.message import Message
from typing import Dict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402,F401 - puts the SDK on sys.path

from airlock_client import (  # noqa: E402
    AirlockError,
    WebhookEvent,
    WebhookVerificationError,
    sign_webhook,
    verify_webhook,
)

# The example of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# Airlock events signed by the service's signWebhook.
BODY = '{"type":"connection.created","timestamp":"2026-11-24T01:40:00.000Z","data":{"identifier":"user_123"}}'
TS = 1795484400
NOW = datetime.fromtimestamp(TS + 10, tz=timezone.utc)
SIGNED_BY_SPEC_SECRET = "v1,TWFcjztrHoG08Th1Z6caz7V5GF2Mjr5dtDysMWagbXY="  # id msg_p5jXN8AQM9LWM0D4loKWxJek
SECOND_SECRET = "whsec_YSBzZWNvbmQgc2VjcmV0LCAzMiBieXRlcyBsb25nISE="
SIGNED_BY_SECOND_SECRET = "v1,U7xpsaKFDFCmQxsnC8xD2Qo6dB5uSk92aUNbIIY+GIc="  # id evt_2
HEX_SECRET = "3f1a9c2e4b7d6a8f0e1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"  # openssl rand -hex 32
UNICODE_BODY = '{"type":"connection.deleted","timestamp":"2026-11-24T01:40:00.000Z","data":{"identifier":"é ü"}}'
SIGNED_BY_HEX_SECRET = "v1,2upcLwMdpgjFWteqZrsGzZ+JqDfv5477An9PTso1e3s="  # id evt_3


def headers(webhook_id: str, timestamp: int, signature: str) -> Dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


class KnownVectorsTest(unittest.TestCase):
    def test_the_specification_example(self) -> None:
        self.assertEqual(sign_webhook(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIGNATURE)
        # The signature checks out; the body is then refused for not being an Airlock event.
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook(
                SPEC_SECRET,
                headers(SPEC_ID, SPEC_TS, SPEC_SIGNATURE),
                SPEC_BODY,
                now=datetime.fromtimestamp(SPEC_TS, tz=timezone.utc),
            )
        self.assertEqual(caught.exception.reason, "invalid_payload")

    def test_an_airlock_event(self) -> None:
        event = verify_webhook(SPEC_SECRET, headers(SPEC_ID, TS, SIGNED_BY_SPEC_SECRET), BODY, now=NOW)
        self.assertEqual(
            event,
            WebhookEvent(
                id=SPEC_ID,
                type="connection.created",
                timestamp="2026-11-24T01:40:00.000Z",
                data={"identifier": "user_123"},
            ),
        )
        self.assertEqual(sign_webhook(SPEC_SECRET, SPEC_ID, TS, BODY), SIGNED_BY_SPEC_SECRET)

    def test_body_as_bytes_bytearray_memoryview_or_text(self) -> None:
        h = headers("evt_3", TS, SIGNED_BY_HEX_SECRET)
        raw = UNICODE_BODY.encode("utf-8")
        for body in (UNICODE_BODY, raw, bytearray(raw), memoryview(raw)):
            with self.subTest(kind=type(body).__name__):
                event = verify_webhook(HEX_SECRET, h, body, now=NOW)
                self.assertEqual(event.data["identifier"], "é ü")

    def test_a_secret_without_the_prefix(self) -> None:
        bare = SECOND_SECRET[len("whsec_") :]
        event = verify_webhook(bare, headers("evt_2", TS, SIGNED_BY_SECOND_SECRET), BODY, now=NOW)
        self.assertEqual(event.id, "evt_2")
        self.assertEqual(verify_webhook(f"  {SECOND_SECRET}\n", headers("evt_2", TS, SIGNED_BY_SECOND_SECRET), BODY, now=NOW).id, "evt_2")


class SignaturesTest(unittest.TestCase):
    def test_wrong_signature(self) -> None:
        wrong = "v1," + base64.b64encode(b"\x00" * 32).decode()
        for signature in (wrong, SIGNED_BY_SECOND_SECRET, "v1,", "v1,not base64!", "v2," + SIGNED_BY_SPEC_SECRET[3:]):
            with self.subTest(signature=signature), self.assertRaises(WebhookVerificationError) as caught:
                verify_webhook(SPEC_SECRET, headers(SPEC_ID, TS, signature), BODY, now=NOW)
            error = caught.exception
            self.assertEqual(error.reason, "invalid_signature")
            self.assertEqual(error.code, "unauthorized")
            self.assertEqual(error.details, {"reason": "invalid_signature"})
            self.assertIsInstance(error, AirlockError)
            self.assertIn("raw body", error.hint)

    def test_a_changed_body_id_or_timestamp(self) -> None:
        good = headers(SPEC_ID, TS, SIGNED_BY_SPEC_SECRET)
        cases = [
            (good, BODY.replace("user_123", "user_124")),
            (good, BODY + " "),
            (headers("msg_other", TS, SIGNED_BY_SPEC_SECRET), BODY),
            (headers(SPEC_ID, TS + 1, SIGNED_BY_SPEC_SECRET), BODY),
        ]
        for h, body in cases:
            with self.subTest(h=h, body=body), self.assertRaises(WebhookVerificationError) as caught:
                verify_webhook(SPEC_SECRET, h, body, now=NOW)
            self.assertEqual(caught.exception.reason, "invalid_signature")

    def test_several_signatures_in_the_header(self) -> None:
        wrong = "v1," + base64.b64encode(b"\x01" * 32).decode()
        for value in (
            f"{wrong} {SIGNED_BY_SPEC_SECRET}",
            f"{SIGNED_BY_SPEC_SECRET} {wrong}",
            f"v2,abc {SIGNED_BY_SPEC_SECRET}",
        ):
            with self.subTest(value=value):
                self.assertEqual(verify_webhook(SPEC_SECRET, headers(SPEC_ID, TS, value), BODY, now=NOW).id, SPEC_ID)

    def test_a_secret_list(self) -> None:
        h = headers("evt_2", TS, SIGNED_BY_SECOND_SECRET)
        self.assertEqual(verify_webhook([SPEC_SECRET, SECOND_SECRET], h, BODY, now=NOW).id, "evt_2")
        self.assertEqual(verify_webhook((SECOND_SECRET, SPEC_SECRET), h, BODY, now=NOW).id, "evt_2")
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook([SPEC_SECRET, HEX_SECRET], h, BODY, now=NOW)
        self.assertEqual(caught.exception.reason, "invalid_signature")
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook([], h, BODY, now=NOW)
        self.assertEqual(caught.exception.reason, "invalid_signature")

    def test_an_invalid_secret_is_reported_even_in_a_list(self) -> None:
        h = headers("evt_2", TS, SIGNED_BY_SECOND_SECRET)
        for secret in ("whsec_", "", "whsec_not base64!", ["whsec_%%%", SECOND_SECRET]):
            with self.subTest(secret=secret), self.assertRaises(WebhookVerificationError) as caught:
                verify_webhook(secret, h, BODY, now=NOW)
            self.assertEqual((caught.exception.reason, caught.exception.code), ("invalid_secret", "config_invalid"))

    def test_compares_in_constant_time(self) -> None:
        calls = []
        original = hmac.compare_digest

        def spy(a: bytes, b: bytes) -> bool:
            calls.append((len(a), len(b)))
            return original(a, b)

        hmac.compare_digest = spy  # type: ignore[assignment]
        try:
            verify_webhook(SPEC_SECRET, headers(SPEC_ID, TS, SIGNED_BY_SPEC_SECRET), BODY, now=NOW)
        finally:
            hmac.compare_digest = original
        self.assertEqual(calls, [(32, 32)])


class TimestampsTest(unittest.TestCase):
    def at(self, now: datetime, tolerance: float = 300) -> WebhookEvent:
        return verify_webhook(SPEC_SECRET, headers(SPEC_ID, TS, SIGNED_BY_SPEC_SECRET), BODY, tolerance, now=now)

    def test_old_and_future_timestamps(self) -> None:
        for offset in (301, -301, 3600):
            with self.subTest(offset=offset), self.assertRaises(WebhookVerificationError) as caught:
                self.at(datetime.fromtimestamp(TS + offset, tz=timezone.utc))
            error = caught.exception
            self.assertEqual((error.reason, error.code), ("stale_timestamp", "unauthorized"))
            self.assertEqual(error.message, "webhook-timestamp is more than 300 seconds away from now.")
        for offset in (300, -300, 0, 299.9):
            with self.subTest(offset=offset):
                self.assertEqual(self.at(datetime.fromtimestamp(TS + offset, tz=timezone.utc)).id, SPEC_ID)

    def test_the_tolerance(self) -> None:
        later = datetime.fromtimestamp(TS + 1000, tz=timezone.utc)
        self.assertEqual(self.at(later, 1000).id, SPEC_ID)
        with self.assertRaises(WebhookVerificationError) as caught:
            self.at(later, 999)
        self.assertIn("999 seconds", caught.exception.message)

    def test_the_real_clock_by_default(self) -> None:
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook(SPEC_SECRET, headers(SPEC_ID, TS - 10**6, SIGNED_BY_SPEC_SECRET), BODY)
        self.assertEqual(caught.exception.reason, "stale_timestamp")
        now = int(time.time())
        signature = sign_webhook(SPEC_SECRET, "evt_now", now, BODY)
        self.assertEqual(verify_webhook(SPEC_SECRET, headers("evt_now", now, signature), BODY).id, "evt_now")

    def test_a_malformed_timestamp(self) -> None:
        for value in ("", "12a", "-5", "1.5", " 1795484400", "1795484400\n", "1" * 16, "١٢٣"):
            h = {"webhook-id": SPEC_ID, "webhook-timestamp": value, "webhook-signature": SIGNED_BY_SPEC_SECRET}
            with self.subTest(value=value), self.assertRaises(WebhookVerificationError) as caught:
                verify_webhook(SPEC_SECRET, h, BODY, now=NOW)
            expected = "missing_headers" if value == "" else "invalid_timestamp"
            self.assertEqual(caught.exception.reason, expected)


class HeadersAndBodiesTest(unittest.TestCase):
    def test_missing_headers(self) -> None:
        full = headers(SPEC_ID, TS, SIGNED_BY_SPEC_SECRET)
        for name in full:
            partial = {k: v for k, v in full.items() if k != name}
            with self.subTest(missing=name), self.assertRaises(WebhookVerificationError) as caught:
                verify_webhook(SPEC_SECRET, partial, BODY, now=NOW)
            self.assertEqual((caught.exception.reason, caught.exception.code), ("missing_headers", "invalid_input"))

    def test_header_shapes_and_case(self) -> None:
        title = {"Webhook-Id": SPEC_ID, "Webhook-Timestamp": str(TS), "WEBHOOK-SIGNATURE": SIGNED_BY_SPEC_SECRET}
        pairs = [(k.encode(), v.encode()) for k, v in title.items()]
        message = Message()
        for k, v in title.items():
            message[k] = v
        as_lists = {"webhook-id": [SPEC_ID], "webhook-timestamp": [str(TS)], "webhook-signature": ["v1,AAAA", SIGNED_BY_SPEC_SECRET]}
        for shape in (title, list(title.items()), pairs, message, as_lists):
            with self.subTest(shape=type(shape).__name__):
                self.assertEqual(verify_webhook(SPEC_SECRET, shape, BODY, now=NOW).id, SPEC_ID)

    def test_signed_bodies_that_are_not_events(self) -> None:
        for body in (
            "not json",
            "[]",
            "null",
            '{"type":"x","timestamp":"t","data":{}}',
            '{"type":"x","timestamp":"t","data":{"identifier":5}}',
            '{"type":"x","timestamp":"t","data":[]}',
            '{"type":"x","data":{"identifier":"u"}}',
            '{"type":"x","timestamp":"t","data":{"identifier":"u"},"n":NaN}',
        ):
            signature = sign_webhook(SPEC_SECRET, SPEC_ID, TS, body)
            with self.subTest(body=body), self.assertRaises(WebhookVerificationError) as caught:
                verify_webhook(SPEC_SECRET, headers(SPEC_ID, TS, signature), body, now=NOW)
            self.assertEqual((caught.exception.reason, caught.exception.code), ("invalid_payload", "invalid_input"))

    def test_a_newer_event_type_passes_through(self) -> None:
        body = '{"type":"connection.someday","timestamp":"t","data":{"identifier":"u","extra":[1,2]}}'
        event = verify_webhook(SPEC_SECRET, headers("e", TS, sign_webhook(SPEC_SECRET, "e", TS, body)), body, now=NOW)
        self.assertEqual((event.type, event.data), ("connection.someday", {"identifier": "u", "extra": [1, 2]}))

    def test_the_signature_is_hmac_sha256_of_id_timestamp_body(self) -> None:
        key = base64.b64decode(SPEC_SECRET[len("whsec_") :])
        mac = hmac.new(key, f"{SPEC_ID}.{TS}.{BODY}".encode(), hashlib.sha256).digest()
        self.assertEqual("v1," + base64.b64encode(mac).decode(), SIGNED_BY_SPEC_SECRET)


if __name__ == "__main__":
    unittest.main()
