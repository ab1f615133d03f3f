"""Dropbox through the official `dropbox` SDK (stone validators, strict
content types): OAuth with PKCE, get_current_account, list_folder and
continue, download, and the errors the SDK decodes."""

import hashlib
import urllib.parse

import pytest

import conftest as c

import dropbox  # noqa: E402  (conftest set the hosts first)
from dropbox import files as dbx_files
from dropbox.exceptions import ApiError, AuthError, BadInputError

APP_KEY = "conformance-dropbox-app"
APP_SECRET = "conformance-dropbox-secret"
EMAIL = "conformance-dropbox@example.com"

SEED = {
    "/Docs/readme.txt": b"hello world",
    "/Docs/Deep/notes.md": b"# notes\n" * 100,
    "/Photos/a.bin": bytes(range(256)) * 64,
    "/top.txt": b"top level",
    "/Empty.txt": b"",
}


@pytest.fixture(scope="module")
def account(sim):
    sim.client("dropbox", APP_KEY, APP_SECRET)
    acc = sim.account("dropbox", EMAIL, "Conformance Dropbox")
    for path, data in SEED.items():
        sim.put("dropbox", acc["driveId"], path, data)
    return acc


@pytest.fixture(scope="module")
def tokens(account):
    """Connects through /oauth2/authorize and /oauth2/token with the SDK's own flow."""
    session = {}
    flow = dropbox.DropboxOAuth2Flow(
        APP_KEY,
        c.REDIRECT_URI,
        session,
        "csrf",
        consumer_secret=APP_SECRET,
        token_access_type="offline",
        use_pkce=True,
        ca_certs=c.CA,
    )
    url = flow.start()
    parts = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(parts.query))
    params["login_hint"] = EMAIL
    query = c.authorize(f"{c.BASE}{parts.path}", params)
    result = flow.finish(query)
    assert result.access_token and result.refresh_token
    assert len(result.account_id) == 40
    return result


@pytest.fixture(scope="module")
def dbx(tokens):
    """A client that refreshes its own access token from the refresh token."""
    return dropbox.Dropbox(
        oauth2_refresh_token=tokens.refresh_token,
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        ca_certs=c.CA,
        max_retries_on_rate_limit=3,
    )


def list_all(dbx, path="", **kwargs):
    result = dbx.files_list_folder(path, **kwargs)
    pages = [result]
    while result.has_more:
        result = dbx.files_list_folder_continue(result.cursor)
        pages.append(result)
    entries = [e for page in pages for e in page.entries]
    return entries, result.cursor, len(pages)


def test_get_current_account(dbx, tokens):
    acc = dbx.users_get_current_account()
    assert acc.email == EMAIL
    assert acc.account_id == tokens.account_id
    assert acc.name.display_name == "Conformance Dropbox"
    assert acc.root_info.root_namespace_id


def test_list_folder_recursive_paged(dbx):
    entries, _, pages = list_all(dbx, "", recursive=True, limit=2)
    assert pages >= 3
    files = {e.path_lower: e for e in entries if isinstance(e, dbx_files.FileMetadata)}
    folders = {e.path_lower for e in entries if isinstance(e, dbx_files.FolderMetadata)}
    assert set(files) == {p.lower() for p in SEED}
    assert {"/docs", "/docs/deep", "/photos"} <= folders
    for path, data in SEED.items():
        meta = files[path.lower()]
        assert meta.size == len(data)
        assert meta.content_hash == c.dropbox_content_hash(data)
        assert meta.id.startswith("id:")


def test_list_folder_not_recursive(dbx):
    entries, _, _ = list_all(dbx, "/Docs")
    assert {e.path_lower for e in entries} == {"/docs/readme.txt", "/docs/deep"}


def test_root_as_slash_is_bad_input(dbx):
    with pytest.raises(BadInputError) as err:
        dbx.files_list_folder("/")
    assert "empty string" in str(err.value)


def test_list_missing_folder(dbx):
    with pytest.raises(ApiError) as err:
        dbx.files_list_folder("/no/such/folder")
    assert err.value.error.is_path() and err.value.error.get_path().is_not_found()


def test_continue_reports_changes(dbx, sim, account):
    drive = account["driveId"]
    cursor = dbx.files_list_folder_get_latest_cursor("", recursive=True).cursor
    sim.put("dropbox", drive, "/Docs/new.txt", b"fresh")
    sim.remove("dropbox", drive, "/top.txt")
    sim.move("dropbox", drive, "/Photos/a.bin", "/Photos/b.bin")
    result = dbx.files_list_folder_continue(cursor)
    entries = list(result.entries)
    while result.has_more:
        result = dbx.files_list_folder_continue(result.cursor)
        entries += result.entries
    by_path = {e.path_lower: e for e in entries}
    assert isinstance(by_path["/docs/new.txt"], dbx_files.FileMetadata)
    assert isinstance(by_path["/top.txt"], dbx_files.DeletedMetadata)
    assert isinstance(by_path["/photos/a.bin"], dbx_files.DeletedMetadata)
    assert isinstance(by_path["/photos/b.bin"], dbx_files.FileMetadata)
    # Nothing new since: an empty page.
    again = dbx.files_list_folder_continue(result.cursor)
    assert again.entries == [] and not again.has_more


def test_download_bytes_and_metadata(dbx):
    data = SEED["/Docs/Deep/notes.md"]
    meta, resp = dbx.files_download("/Docs/Deep/notes.md")
    assert resp.content == data
    assert meta.size == len(data)
    assert meta.content_hash == c.dropbox_content_hash(data)
    assert meta.path_display == "/Docs/Deep/notes.md"


def test_download_by_id(dbx):
    entries, _, _ = list_all(dbx, "/Docs")
    readme = next(e for e in entries if e.name == "readme.txt")
    meta, resp = dbx.files_download(readme.id)
    assert resp.content == b"hello world" and meta.id == readme.id


def test_download_range(dbx):
    _, resp = dbx.files_download("/Docs/readme.txt", extra_headers={"Range": "bytes=6-"})
    assert resp.status_code == 206 and resp.content == b"world"


def test_download_missing(dbx):
    with pytest.raises(ApiError) as err:
        dbx.files_download("/nope.txt")
    assert err.value.error.is_path() and err.value.error.get_path().is_not_found()


def test_invalid_token_is_auth_error():
    bad = dropbox.Dropbox(oauth2_access_token="not-a-token", ca_certs=c.CA)
    with pytest.raises(AuthError) as err:
        bad.users_get_current_account()
    assert err.value.error.is_invalid_access_token()


def test_expired_token_is_refreshed(sim, dbx):
    dbx.users_get_current_account()
    sim.post("/_sim/dropbox/tokens/expire")
    fixed = dropbox.Dropbox(oauth2_access_token=dbx._oauth2_access_token, ca_certs=c.CA)
    with pytest.raises(AuthError) as err:
        fixed.users_get_current_account()
    assert err.value.error.is_expired_access_token()
    # The SDK answers expired_access_token by refreshing and retrying.
    assert dbx.users_get_current_account().email == EMAIL


def test_rate_limit_then_success(sim, dbx):
    sim.fault(provider="dropbox", kind="rate_limit", count=1, retryAfterSeconds=1)
    try:
        acc = dbx.users_get_current_account()
    finally:
        sim.clear_faults()
    assert acc.email == EMAIL


def test_revoke_disables_token(tokens):
    fresh = dropbox.Dropbox(
        oauth2_refresh_token=tokens.refresh_token, app_key=APP_KEY, app_secret=APP_SECRET, ca_certs=c.CA
    )
    fresh.refresh_access_token()
    token = fresh._oauth2_access_token
    fixed = dropbox.Dropbox(oauth2_access_token=token, ca_certs=c.CA)
    fixed.users_get_current_account()
    fixed.auth_token_revoke()
    with pytest.raises(AuthError):
        fixed.users_get_current_account()


def test_hash_helper_matches_published_vector():
    assert c.dropbox_content_hash(b"") == hashlib.sha256(b"").hexdigest()
