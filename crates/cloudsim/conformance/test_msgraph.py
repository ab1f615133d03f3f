"""Microsoft Graph through the official `msgraph-sdk` (Kiota): OAuth via
the per-tenant identity endpoints, /me, /me/drive, drive root delta with
next and delta links, item content through the 302 download URL, and the
errors the SDK maps to ODataError."""

import asyncio
import urllib.parse

import httpx
import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.drives.item.items.item.delta.delta_request_builder import DeltaRequestBuilder
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core import GraphClientFactory

import conftest as c

CLIENT_ID = "conformance-graph-app"
CLIENT_SECRET = "conformance-graph-secret"
EMAIL = "conformance-graph@example.com"
TENANT = "common"

SEED = {
    "Docs/readme.txt": b"hello world",
    "Docs/Deep/notes.md": b"# notes\n" * 300,
    "Photos/a.bin": bytes(range(256)) * 40,
    "top.txt": b"top level",
}


class StaticToken(AccessTokenProvider):
    def __init__(self, token):
        self.token = token

    async def get_authorization_token(self, uri, additional_authentication_context={}):
        return self.token

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([urllib.parse.urlsplit(c.BASE).hostname])


def graph_client(token):
    http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=c.CA))
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)), client=http)
    adapter.base_url = f"{c.BASE}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def run(token, fn, *args):
    """Runs `fn(client, *args)` on a fresh client inside one event loop."""

    async def main():
        return await fn(graph_client(token), *args)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def account(sim):
    sim.client("microsoft", CLIENT_ID, CLIENT_SECRET)
    acc = sim.account("microsoft", EMAIL, "Conformance Graph")
    for path, data in SEED.items():
        sim.put("microsoft", acc["driveId"], path, data)
    return acc


@pytest.fixture(scope="module")
def tokens(account):
    """Connects through the tenant's authorize and token endpoints (PKCE)."""
    verifier, challenge = c.pkce_pair()
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": c.REDIRECT_URI,
        "response_mode": "query",
        "scope": "offline_access Files.Read.All Sites.Read.All User.Read",
        "state": "graph-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "login_hint": EMAIL,
    }
    query = c.authorize(f"{c.BASE}/{TENANT}/oauth2/v2.0/authorize", params)
    first = c.token(
        f"{c.BASE}/{TENANT}/oauth2/v2.0/token",
        {
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": query["code"],
            "redirect_uri": c.REDIRECT_URI,
            "code_verifier": verifier,
            "scope": params["scope"],
        },
    )
    assert first["token_type"].lower() == "bearer" and first["refresh_token"]
    # Every refresh rotates the refresh token.
    second = c.token(
        f"{c.BASE}/{TENANT}/oauth2/v2.0/token",
        {
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": first["refresh_token"],
            "scope": params["scope"],
        },
    )
    assert second["refresh_token"] != first["refresh_token"]
    return second


@pytest.fixture(scope="module")
def token(tokens):
    return tokens["access_token"]


async def full_delta(client, drive_id, top=2):
    """First enumeration: follows nextLinks; returns (items, deltaLink, pages)."""
    config = RequestConfiguration(query_parameters=DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(top=top))
    builder = client.drives.by_drive_id(drive_id).items.by_drive_item_id("root").delta
    page = await builder.get(request_configuration=config)
    pages, items = 1, list(page.value)
    while page.odata_next_link:
        assert page.odata_next_link.startswith(c.BASE + "/v1.0/")
        page = await builder.with_url(page.odata_next_link).get()
        pages += 1
        items += page.value
    assert page.odata_delta_link and page.odata_delta_link.startswith(c.BASE + "/v1.0/")
    return items, page.odata_delta_link, pages


async def follow_delta(client, drive_id, link):
    builder = client.drives.by_drive_id(drive_id).items.by_drive_item_id("root").delta
    page = await builder.with_url(link).get()
    items = list(page.value)
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        items += page.value
    return items, page.odata_delta_link


def test_me(token):
    me = run(token, lambda cl: cl.me.get())
    assert me.display_name == "Conformance Graph"
    assert me.mail == EMAIL and me.user_principal_name == EMAIL
    assert me.id


def test_me_drive(token, account):
    drive = run(token, lambda cl: cl.me.drive.get())
    assert drive.id == account["driveId"]
    assert drive.drive_type in ("business", "personal")
    assert drive.quota.total > 0


def test_delta_pages_and_hashes(token, account):
    items, delta_link, pages = run(token, full_delta, account["driveId"], 2)
    assert pages >= 3
    files = {i.name: i for i in items if i.file is not None}
    assert set(files) == {p.rsplit("/", 1)[-1] for p in SEED}
    for path, data in SEED.items():
        item = files[path.rsplit("/", 1)[-1]]
        assert item.size == len(data)
        assert item.file.hashes.quick_xor_hash == c.quick_xor_base64(data)
        assert item.parent_reference.drive_id == account["driveId"]
    folders = {i.name for i in items if i.folder is not None}
    assert {"Docs", "Deep", "Photos"} <= folders
    roots = [i for i in items if i.root is not None]
    assert len(roots) == 1


def test_delta_link_reports_changes(token, sim, account):
    drive = account["driveId"]
    _, link, _ = run(token, full_delta, drive, 50)
    sim.put("microsoft", drive, "Docs/new.txt", b"new file")
    sim.remove("microsoft", drive, "top.txt")
    sim.move("microsoft", drive, "Photos/a.bin", "Docs/a-renamed.bin")
    changed, link2 = run(token, follow_delta, drive, link)
    by_name = {i.name: i for i in changed if i.name}
    assert "new.txt" in by_name and by_name["new.txt"].deleted is None
    assert "a-renamed.bin" in by_name
    deleted = [i for i in changed if i.deleted is not None]
    assert deleted, "the deleted item carries the deleted facet"
    again, _ = run(token, follow_delta, drive, link2)
    assert again == []


def test_latest_token(token, account):
    drive = account["driveId"]
    page = run(token, lambda cl: cl.drives.by_drive_id(drive).items.by_drive_item_id("root").delta_with_token("latest").get())
    assert page.value == [] and page.odata_delta_link


def test_item_content_follows_redirect(token, account):
    drive = account["driveId"]
    items, _, _ = run(token, full_delta, drive, 100)
    notes = next(i for i in items if i.name == "notes.md")
    data = run(token, lambda cl: cl.drives.by_drive_id(drive).items.by_drive_item_id(notes.id).content.get())
    assert data == SEED["Docs/Deep/notes.md"]


def test_unknown_item_is_odata_error(token, account):
    drive = account["driveId"]
    with pytest.raises(ODataError) as err:
        run(token, lambda cl: cl.drives.by_drive_id(drive).items.by_drive_item_id("01NOSUCHITEM").get())
    assert err.value.response_status_code == 404
    assert err.value.error.code == "itemNotFound"


def test_bad_token_is_401():
    with pytest.raises(ODataError) as err:
        run("not-a-token", lambda cl: cl.me.get())
    assert err.value.response_status_code == 401
    assert err.value.error.code == "InvalidAuthenticationToken"
