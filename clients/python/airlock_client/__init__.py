"""``airlock_client``: a typed Python SDK for the Airlock service's HTTP API (``airlock serve``),
plus verification of Airlock's signed webhooks. Standard library only; Python 3.9+.

The Python twin of ``@airlock/client``: connect links, connections, fresh access tokens, calls to
Airtable through the service's proxy, and ``verify_webhook``. Keep the secret key on your server.

Example::

    import os
    from airlock_client import AirlockClient, AirlockError

    airlock = AirlockClient("http://localhost:4000", os.environ["AIRLOCK_SECRET_KEY"])
    try:
        res = airlock.proxy("user_123", "GET", "/v0/meta/whoami")
        print(res.status, res.body)
    except AirlockError as err:
        if err.is_reauth_required:
            print("Ask the user to reconnect:", airlock.create_connect_session("user_123").url)
        else:
            raise
"""

from .client import (
    AccessToken,
    AirlockClient,
    Connection,
    ConnectionEvent,
    ConnectionPage,
    ConnectionStatus,
    ConnectSession,
    Integration,
    ProxyResponse,
)
from .errors import AirlockApiError, AirlockError, AirlockErrorCode
from .webhooks import (
    WebhookEvent,
    WebhookVerificationError,
    WebhookVerificationReason,
    sign_webhook,
    verify_webhook,
)

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "AirlockApiError",
    "AirlockClient",
    "AirlockError",
    "AirlockErrorCode",
    "Connection",
    "ConnectionEvent",
    "ConnectionPage",
    "ConnectionStatus",
    "ConnectSession",
    "Integration",
    "ProxyResponse",
    "WebhookEvent",
    "WebhookVerificationError",
    "WebhookVerificationReason",
    "sign_webhook",
    "verify_webhook",
    "__version__",
]
