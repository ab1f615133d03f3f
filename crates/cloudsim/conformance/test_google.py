"""Google Drive v3 through the official google-api-python-client with
google-auth: OAuth (authorize + code exchange, then the library's own
refresh), about, files.list with paging, changes, alt=media and export."""

import hashlib
import io

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload

import conftest as c

CLIENT_ID = "conformance-google.apps.googleusercontent.com"
CLIENT_SECRET = "conformance-google-secret"
EMAIL = "conformance-google@example.com"
DOC_MIME = "application/vnd.google-apps.document"

SEED = {
    "Docs/readme.txt": b"hello world",
    "Docs/Deep/notes.md": b"# notes\n" * 100,
    "Photos/a.bin": bytes(range(256)) * 1000,
    "top.txt": b"top level",
}


@pytest.fixture(scope="module")
def account(sim):
    sim.client("google", CLIENT_ID, CLIENT_SECRET)
    acc = sim.account("google", EMAIL, "Conformance Google")
    for path, data in SEED.items():
        sim.put("google", acc["driveId"], path, data)
    sim.put("google", acc["driveId"], "Docs/Report", b"Quarterly report text", mimeType=DOC_MIME)
    return acc


@pytest.fixture(scope="module")
def creds(account):
    verifier, challenge = c.pkce_pair()
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": c.REDIRECT_URI,
        "response_type": "code",
        "scope": "https://www.googleapis.com/auth/drive.readonly",
        "access_type": "offline",
        "prompt": "consent",
        "state": "google-state",
        "login_hint": EMAIL,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    query = c.authorize(f"{c.BASE}/o/oauth2/v2/auth", params)
    tok = c.token(
        f"{c.BASE}/token",
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": c.REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    assert tok["refresh_token"]
    # No access token: google-auth must refresh through token_uri itself.
    return Credentials(
        token=None,
        refresh_token=tok["refresh_token"],
        token_uri=f"{c.BASE}/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


@pytest.fixture(scope="module")
def drive(creds):
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(ca_certs=c.CA))
    return build(
        "drive",
        "v3",
        http=http,
        client_options={"api_endpoint": f"{c.BASE}/drive/v3/"},
        cache_discovery=False,
    )


def list_all(drive, **kwargs):
    request = drive.files().list(**kwargs)
    files, pages = [], 0
    while request is not None:
        response = request.execute()
        files += response.get("files", [])
        pages += 1
        request = drive.files().list_next(request, response)
    return files, pages


def download(request, chunksize=1000):
    buf = io.BytesIO()
    downloader = MediaIoBaseDownload(buf, request, chunksize=chunksize)
    done = False
    while not done:
        _, done = downloader.next_chunk()
    return buf.getvalue()


def test_about_user(drive):
    about = drive.about().get(fields="user").execute()
    assert about["user"]["emailAddress"] == EMAIL
    assert about["user"]["displayName"] == "Conformance Google"


def test_files_list_paged(drive):
    files, pages = list_all(drive, pageSize=2, fields="nextPageToken, files(id, name, mimeType, md5Checksum, size, parents)")
    assert pages >= 3
    by_name = {f["name"]: f for f in files}
    for path, data in SEED.items():
        f = by_name[path.rsplit("/", 1)[-1]]
        assert f["md5Checksum"] == hashlib.md5(data).hexdigest()
        assert f["size"] == str(len(data))
    assert by_name["Docs"]["mimeType"] == "application/vnd.google-apps.folder"


def test_folder_children_query(drive):
    files, _ = list_all(drive, q="'root' in parents and trashed = false", fields="nextPageToken, files(id, name)")
    assert {f["name"] for f in files} == {"Docs", "Photos", "top.txt"}


def test_changes(drive, sim, account):
    start = drive.changes().getStartPageToken().execute()["startPageToken"]
    sim.put("google", account["driveId"], "Docs/new.txt", b"new")
    sim.remove("google", account["driveId"], "top.txt")
    token, changes = start, []
    while True:
        page = drive.changes().list(pageToken=token, pageSize=1, fields="*").execute()
        changes += page["changes"]
        if "newStartPageToken" in page:
            break
        token = page["nextPageToken"]
    names = {ch.get("file", {}).get("name") for ch in changes if not ch.get("removed")}
    assert "new.txt" in names
    assert any(ch.get("removed") or ch.get("file", {}).get("trashed") for ch in changes)


def test_alt_media_in_chunks(drive):
    files, _ = list_all(drive, q="name = 'a.bin'", fields="nextPageToken, files(id, name)")
    file_id = next(f["id"] for f in files if f["name"] == "a.bin")
    assert download(drive.files().get_media(fileId=file_id), chunksize=10_000) == SEED["Photos/a.bin"]


def test_export_native_document(drive):
    files, _ = list_all(drive, fields="nextPageToken, files(id, name, mimeType)")
    doc = next(f for f in files if f["mimeType"] == DOC_MIME)
    data = download(drive.files().export_media(fileId=doc["id"], mimeType="text/plain"))
    assert data
    with pytest.raises(HttpError) as err:
        drive.files().get_media(fileId=doc["id"]).execute()
    assert err.value.resp.status == 403


def test_missing_file_is_404(drive):
    with pytest.raises(HttpError) as err:
        drive.files().get(fileId="no-such-file-id").execute()
    assert err.value.resp.status == 404
