"""Binance's request signing, checked as Binance checks it (HMAC-SHA256 keys).

A signed request carries `X-MBX-APIKEY`, `timestamp`, optionally `recvWindow`
(default 5000 ms, at most 60000) and `signature`: the hex HMAC-SHA256, keyed
by the secret, of the parameters *as sent* -- the query string followed by the
form body, each without the `signature` parameter. Checks, in Binance's order:

1. no or malformed key header: -2014 "API-key format invalid." (HTTP 401);
   an unknown key: -2015 (HTTP 401);
2. timestamp missing: -1102; outside [server - recvWindow, server + 1000]: -1021;
3. signature missing: -1102; not the HMAC of the parameters: -1022.
"""
from __future__ import annotations

import hashlib
import hmac

from engine.sim.errors import ApiError

__all__ = ["payload_without_signature", "sign", "verify"]

DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
AHEAD_MS = 1000


def sign(secret: str, payload: str) -> str:
    """The signature Binance expects for `payload` (hex HMAC-SHA256)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def payload_without_signature(query: str, body: str) -> str:
    """What was signed: the query string, then the body, without their `signature=` part."""
    parts = [p for text in (query, body) if text for p in text.split("&")
             if not p.startswith("signature=")]
    return "&".join(parts)


def verify(keys: dict[str, str], api_key: str | None, params: dict[str, str], query: str,
           body: str, now_ms: int) -> str:
    """Check a signed request (steps 1-3); returns the API key it was signed with."""
    if not api_key or not api_key.isascii() or len(api_key) > 200:
        raise ApiError(-2014, "API-key format invalid.", status=401)
    secret = keys.get(api_key)
    if secret is None:
        raise ApiError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
    stamp = params.get("timestamp")
    if stamp is None or not stamp.isdigit():
        raise ApiError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    window_text = params.get("recvWindow", str(DEFAULT_RECV_WINDOW))
    try:
        window = float(window_text)
    except ValueError:
        raise ApiError(-1100, "Illegal characters found in parameter 'recvWindow'.") from None
    if not 0 < window <= MAX_RECV_WINDOW:
        raise ApiError(-1131, "recvWindow must be less than 60000")
    ts = int(stamp)
    if ts - now_ms > AHEAD_MS:
        raise ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now_ms - ts > window:
        raise ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")
    given = params.get("signature")
    if not given:
        raise ApiError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    expected = sign(secret, payload_without_signature(query, body))
    if not hmac.compare_digest(given.lower(), expected):
        raise ApiError(-1022, "Signature for this request is not valid.")
    return api_key
