"""A real ``airlock serve`` (demo mode) for the SDK's tests, and a browser that walks its connect flow.

The service is ``node dist/cli/main.js serve --port 0`` (run ``npm run build`` in the repository
first) with a SQLite file in a temp folder, its own secret and encryption keys, and a webhook
receiver on 127.0.0.1 that records every signed delivery. Besides the AIRTABLE_* ``default``
integration it has a ``readonly`` one (:data:`READONLY_SCOPES`), from an ``AIRLOCK_INTEGRATIONS_FILE``
in the temp folder; the demo emulator hosts both. The demo emulator shows a real consent page;
:func:`connect` submits it the way a user's browser would.

Environment: ``AIRLOCK_NODE`` (the node binary; default ``node`` on PATH) and ``AIRLOCK_CLI_MAIN``
(default ``<repo>/dist/cli/main.js``).
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients" / "python"))

from airlock_client import AirlockClient  # noqa: E402

MAIN = Path(os.environ.get("AIRLOCK_CLI_MAIN", str(ROOT / "dist" / "cli" / "main.js")))

#: The ``readonly`` integration every harness service has (besides ``default``).
READONLY_ID = "readonly"
READONLY_CLIENT_ID = "airlock-readonly"
READONLY_SCOPES = ["data.records:read", "schema.bases:read"]


@dataclass
class Delivery:
    """One webhook POST the receiver got: its headers (as sent) and raw body."""

    headers: List[Tuple[str, str]]
    body: bytes


@dataclass
class Receiver:
    """Records webhook deliveries and answers 204."""

    server: ThreadingHTTPServer
    deliveries: List[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/airlock"

    def wait_for(self, event_type: str, identifier: str, timeout: float = 15.0) -> Delivery:
        """The first delivery whose body names this type and identifier."""
        deadline = time.monotonic() + timeout
        needle_type = f'"type":"{event_type}"'.encode()
        needle_id = f'"identifier":"{identifier}"'.encode()
        while time.monotonic() < deadline:
            with self.lock:
                for delivery in self.deliveries:
                    if needle_type in delivery.body and needle_id in delivery.body:
                        return delivery
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} webhook for {identifier} within {timeout} s")


def start_receiver() -> Receiver:
    holder: Dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            receiver = holder["receiver"]
            with receiver.lock:
                receiver.deliveries.append(Delivery(list(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    holder["receiver"] = receiver
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@dataclass
class Service:
    """A running ``airlock serve``."""

    process: "subprocess.Popen[bytes]"
    url: str
    secret_key: str
    webhook_secret: str
    receiver: Receiver
    directory: str
    _stderr: List[str]

    def client(self, secret_key: Optional[str] = None, integration: Optional[str] = None) -> AirlockClient:
        return AirlockClient(self.url, secret_key or self.secret_key, timeout=20, integration=integration)

    def stderr(self) -> str:
        return "".join(self._stderr)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.receiver.server.shutdown()
        self.receiver.server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _clean_env(extra: Dict[str, str]) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not re.match(r"^(AIRTABLE_|AIRLOCK_|PORT$|DATABASE_URL$)", k)}
    env.update(extra)
    return env


def start_service() -> Service:
    """Starts the service in demo mode on a free port and waits for its banner."""
    node = os.environ.get("AIRLOCK_NODE") or shutil.which("node")
    if not node:
        raise RuntimeError("node is not on PATH (set AIRLOCK_NODE)")
    if not MAIN.exists():
        raise RuntimeError(f"{MAIN} is missing: run `npm run build` in {ROOT} first")
    directory = tempfile.mkdtemp(prefix="airlock-py-")
    secret_key = f"sk_test_{secrets.token_hex(16)}"
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver = start_receiver()
    integrations_file = os.path.join(directory, "integrations.json")
    with open(integrations_file, "w", encoding="utf-8") as out:
        entry = {
            "id": READONLY_ID,
            "name": "Read-only",
            "client_id": READONLY_CLIENT_ID,
            "scopes": " ".join(READONLY_SCOPES),
        }
        json.dump({"integrations": [entry]}, out)
    env = _clean_env(
        {
            "DATABASE_URL": os.path.join(directory, "airlock.db"),
            "AIRLOCK_INTEGRATIONS_FILE": integrations_file,
            "AIRLOCK_SECRET_KEY": secret_key,
            "AIRLOCK_ENCRYPTION_KEYS": "py1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "AIRLOCK_WEBHOOK_URL": receiver.url,
            "AIRLOCK_WEBHOOK_SECRET": webhook_secret,
            "AIRLOCK_LOG_FORMAT": "json",
            "AIRLOCK_LOG_LEVEL": "warn",
        }
    )
    process = subprocess.Popen(
        [node, str(MAIN), "serve", "--port", "0"],
        cwd=directory,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    lines: List[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for raw in iter(process.stderr.readline, b""):
            lines.append(raw.decode("utf-8", errors="replace"))

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"Dashboard:\s+(http://\S+?)/\s", "".join(lines))
        if found:
            return Service(process, found.group(1), secret_key, webhook_secret, receiver, directory, lines)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    receiver.server.server_close()
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError("airlock serve did not start:\n" + "".join(lines))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """Keeps cookies and never follows redirects on its own, like the TS harness's Browser."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects())

    def request(self, url: str, data: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], str]:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(url, data=body, method="GET" if body is None else "POST")
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=20) as res:
                return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read().decode()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read().decode()


def connect(
    service: Service,
    identifier: str,
    metadata: Optional[Dict[str, Any]] = None,
    integration: Optional[str] = None,
) -> None:
    """Creates a connect link (with ``metadata``, if given; on ``integration``, if given, else on
    ``default``) and walks it like a user: link → consent page → Grant access → callback."""
    client = service.client(integration=integration)
    session = client.create_connect_session(identifier, metadata=metadata)
    status, page = walk(session.url)
    if status != 200:
        raise AssertionError(f"OAuth callback: HTTP {status}: {page[:300]}")


def walk(connect_url: str) -> Tuple[int, str]:
    """Walks a connect link like a user (link → consent page → Grant access) and returns the
    callback's status and page."""
    browser = Browser()
    status, _, page = browser.request(connect_url)
    if status != 200:
        raise AssertionError(f"connect link: HTTP {status}: {page[:300]}")
    # The "Continue to Airtable" page: the GET spent nothing; pressing Continue POSTs the link.
    action = re.search(r'<form id="airlock-continue" method="post" action="([^"]+)"', page)
    if not action:
        raise AssertionError("the connect link's page has no Continue form")
    status, headers, _ = browser.request(urllib.parse.urljoin(connect_url, action.group(1)), {})
    if status != 302:
        raise AssertionError(f"Continue to Airtable: HTTP {status}")
    authorize_url = headers["location"]
    status, _, html = browser.request(authorize_url)
    if status != 200:
        raise AssertionError(f"consent page: HTTP {status}")
    found = re.search(r'name="request_id" value="([^"]+)"', html)
    if not found:
        raise AssertionError("the consent page has no request_id")
    decision_url = urllib.parse.urljoin(authorize_url, "/oauth2/v1/authorize/decision")
    form = {"request_id": found.group(1), "decision": "allow", "all_bases": "1"}
    status, headers, _ = browser.request(decision_url, form)
    if status != 302:
        raise AssertionError(f"consent decision: HTTP {status}")
    status, _, page = browser.request(headers["location"])
    return status, page
