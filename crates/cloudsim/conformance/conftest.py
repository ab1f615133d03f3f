"""Shared fixtures: where cloudsim is, its CA, and a small client of its
/_sim/ control API and OAuth endpoints. The SDKs under test are used
unmodified; only their documented knobs (hosts, base URLs, CA) are set."""

import base64
import hashlib
import os
import secrets
import urllib.parse

import pytest
import requests

BASE = os.environ["CLOUDSIM_URL"].rstrip("/")
CA = os.environ["CLOUDSIM_CA"]
HOSTPORT = urllib.parse.urlsplit(BASE).netloc

# The Dropbox SDK reads its hosts at import time, always with https.
for var in ("DROPBOX_API_HOST", "DROPBOX_API_CONTENT_HOST", "DROPBOX_API_NOTIFY_HOST", "DROPBOX_WEB_HOST"):
    os.environ[var] = HOSTPORT

REDIRECT_URI = "https://app.example.test/callback"


class Sim:
    """The cloudsim control API (see the cloudsim README)."""

    def __init__(self):
        self.http = requests.Session()
        self.http.verify = CA

    def _check(self, resp):
        if resp.status_code >= 400:
            raise AssertionError(f"{resp.request.method} {resp.url} -> {resp.status_code}: {resp.text}")
        return resp.json() if resp.content else None

    def post(self, path, body=None):
        return self._check(self.http.post(BASE + path, json=body))

    def delete(self, path):
        return self._check(self.http.delete(BASE + path))

    def client(self, provider, client_id, secret):
        return self.post(
            "/_sim/clients",
            {"provider": provider, "clientId": client_id, "clientSecret": secret, "redirectUris": [REDIRECT_URI]},
        )

    def account(self, provider, email, name):
        return self.post("/_sim/accounts", {"provider": provider, "email": email, "displayName": name})

    def put(self, provider, drive, path, data, **params):
        quoted = urllib.parse.quote(path.lstrip("/"))
        return self._check(self.http.put(f"{BASE}/_sim/{provider}/{drive}/files/{quoted}", data=data, params=params))

    def remove(self, provider, drive, path):
        quoted = urllib.parse.quote(path.lstrip("/"))
        return self.delete(f"/_sim/{provider}/{drive}/files/{quoted}")

    def move(self, provider, drive, src, dst):
        return self.post(f"/_sim/{provider}/{drive}/move", {"from": src, "to": dst})

    def fault(self, **spec):
        return self.post("/_sim/faults", spec)

    def clear_faults(self):
        return self.delete("/_sim/faults")

    def counts(self):
        return self._check(self.http.get(BASE + "/_sim/requests"))["counts"]


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(url, params):
    """Follows an auto-approving authorize endpoint to its redirect; returns the query."""
    resp = requests.get(url, params=params, allow_redirects=False, verify=CA)
    assert resp.status_code in (302, 303), f"authorize -> {resp.status_code}: {resp.text}"
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query.get("state") == params.get("state"), query
    return query


def token(url, form, auth=None):
    resp = requests.post(url, data=form, auth=auth, verify=CA)
    assert resp.status_code == 200, f"token -> {resp.status_code}: {resp.text}"
    return resp.json()


def quick_xor_base64(data: bytes) -> str:
    """QuickXorHash, written from the published description (see WIRE.md)."""
    state = 0
    for i, byte in enumerate(data):
        bit = (11 * i) % 160
        value = byte << bit
        state ^= (value | (value >> 160)) & ((1 << 160) - 1)
    raw = bytearray(state.to_bytes(20, "little"))
    for i, b in enumerate(len(data).to_bytes(8, "little")):
        raw[12 + i] ^= b
    return base64.b64encode(bytes(raw)).decode()


def dropbox_content_hash(data: bytes) -> str:
    block = 4 * 1024 * 1024
    digests = b"".join(hashlib.sha256(data[i : i + block]).digest() for i in range(0, len(data), block))
    return hashlib.sha256(digests).hexdigest()


@pytest.fixture(scope="session")
def sim():
    return Sim()
