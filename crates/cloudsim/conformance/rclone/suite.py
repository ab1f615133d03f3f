"""rclone, unmodified, against cloudsim under the providers' real host names.

Run by run.sh inside fresh mount and network namespaces (as root): this
script brings up loopback, bind-mounts a hosts file mapping the real host
names to 127.0.0.1 over /etc/hosts, starts cloudsim on 127.0.0.1:443 with a
generated CA (its certificate covers those names) and points rclone at
that CA through SSL_CERT_FILE. Tokens come from cloudsim's own authorize
(auto-approve) and token endpoints, as `rclone config` would get them.

Targets (each a remote, at its root and at a folder path): Google Drive
(a 10,000-file generated tree plus named files), OneDrive business and
personal, Dropbox. For each: `lsjson -R --hash`, `size`, `copy`, a remote
change then `sync` twice (the second must transfer nothing), `check`,
`hashsum` with the provider's hash against rclone's own hashing of the
local copy, `cat` of one file, `about`. Then per account a remote whose
access token was issued with a 12-second lifetime: after it has expired,
rclone must refresh it (through cloudsim's token endpoint) and go on.

Prints one line per check and ends with `N passed, M failed`; exits 1 on
any failure.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HOSTS = [
    "accounts.google.com",
    "oauth2.googleapis.com",
    "www.googleapis.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "www.dropbox.com",
    "api.dropbox.com",
    "api.dropboxapi.com",
    "content.dropboxapi.com",
    "notify.dropboxapi.com",
]
BASE = "https://127.0.0.1"
REDIRECT = "http://127.0.0.1:53682/"  # rclone's own redirect URL
SECRET = "rclone-secret"
# A short lifetime for the refresh remotes' first token; rclone refreshes
# 10 s before expiry, so 12 s leaves it 2 s of validity.
SHORT_LIFETIME = 12
# Named files seeded in every account (names rclone must carry through).
NAMED = {
    "docs/a.txt": b"alpha\n",
    "docs/b c.txt": b"bravo with a space\n",
    "docs/R\u00e9sum\u00e9.txt": b"accents\n",
    "docs/emoji \U0001f600.bin": bytes(range(256)) * 8,
    "docs/deep/er/file.txt": b"deep down\n",
    "docs/empty.txt": b"",
}


class Suite:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.passed = 0
        self.failed = 0
        self.ctx = None
        self.sim = None
        self.conf = os.path.join(work, "rclone.conf")
        self.remotes = {}

    # ----- results -------------------------------------------------------

    def check(self, name, fn):
        started = time.monotonic()
        try:
            detail = fn()
        except Exception as err:  # noqa: BLE001 - every failure is reported
            self.failed += 1
            print(f"FAIL {name} ({time.monotonic() - started:.1f}s): {err}", flush=True)
            if self.args.verbose:
                traceback.print_exc()
            return False
        self.passed += 1
        extra = f" - {detail}" if detail else ""
        print(f"ok   {name} ({time.monotonic() - started:.1f}s){extra}", flush=True)
        return True

    # ----- environment -----------------------------------------------------

    def isolate(self):
        """Loopback up and the real host names at 127.0.0.1, in this namespace only."""
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        hosts = os.path.join(self.work, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
            for h in HOSTS:
                f.write(f"127.0.0.1 {h}\n")
        subprocess.run(["mount", "--bind", hosts, "/etc/hosts"], check=True)

    def start_cloudsim(self):
        tls = os.path.join(self.work, "tls")
        log = open(os.path.join(self.work, "cloudsim.log"), "w")
        self.sim = subprocess.Popen(
            [self.args.cloudsim, "serve", "--host", "127.0.0.1", "--port", "443",
             "--tls-generate", tls],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        line = self.sim.stdout.readline().strip()
        if not line.startswith("listening on https://"):
            raise RuntimeError(f"cloudsim did not start: {line!r}")
        self.ca = os.path.join(tls, "ca.pem")
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def stop_cloudsim(self):
        if self.sim and self.sim.poll() is None:
            self.sim.terminate()
            try:
                self.sim.wait(10)
            except subprocess.TimeoutExpired:
                self.sim.kill()

    # ----- HTTP to cloudsim -------------------------------------------------

    def http(self, method, path, body=None, form=None, raw=None, follow=True):
        url = path if path.startswith("https://") else BASE + path
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif raw is not None:
            data = raw
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        handlers = [urllib.request.HTTPSHandler(context=self.ctx)]
        if not follow:
            handlers.append(NoRedirect())
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(req) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def control(self, method, path, body=None, raw=None):
        status, _, data = self.http(method, "/_sim" + path, body=body, raw=raw)
        if status >= 300:
            raise RuntimeError(f"{method} /_sim{path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None

    def put(self, provider, drive, path, data):
        quoted = urllib.parse.quote(path)
        return self.control("PUT", f"/{provider}/{drive}/files/{quoted}", raw=data)["id"]

    def counts(self):
        return self.control("GET", "/requests")["counts"]

    # ----- OAuth, as rclone config would do it -------------------------------

    def token(self, provider, client, email):
        """An authorization-code grant through cloudsim's endpoints."""
        authorize, token_path, extra = {
            "google": ("/o/oauth2/v2/auth", "/token",
                       {"scope": "https://www.googleapis.com/auth/drive", "access_type": "offline"}),
            "microsoft": ("/common/oauth2/v2.0/authorize", "/common/oauth2/v2.0/token",
                          {"scope": "Files.Read Files.ReadWrite Files.Read.All Files.ReadWrite.All "
                                    "Sites.Read.All offline_access"}),
            "dropbox": ("/oauth2/authorize", "/oauth2/token", {"token_access_type": "offline"}),
        }[provider]
        query = {"client_id": client, "redirect_uri": REDIRECT, "response_type": "code",
                 "state": "rclone", "login_hint": email, **extra}
        status, headers, body = self.http(
            "GET", authorize + "?" + urllib.parse.urlencode(query), follow=False)
        if status != 302:
            raise RuntimeError(f"authorize {provider}: {status} {body[:200]!r}")
        location = headers.get("Location") or headers.get("location")
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
        status, _, body = self.http("POST", token_path, form={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": client, "client_secret": SECRET})
        if status != 200:
            raise RuntimeError(f"token {provider}: {status} {body[:200]!r}")
        tok = json.loads(body)
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                               time.gmtime(time.time() + int(tok["expires_in"])))
        return {"access_token": tok["access_token"], "token_type": "Bearer",
                "refresh_token": tok["refresh_token"], "expiry": expiry}

    # ----- rclone ---------------------------------------------------------------

    def rclone(self, *args, check=True, binary=False):
        env = dict(os.environ, SSL_CERT_FILE=self.ca, RCLONE_CONFIG=self.conf)
        env.pop("SSL_CERT_DIR", None)
        cmd = ["rclone", "--transfers", "8", "--checkers", "8", "--retries", "1",
               "--low-level-retries", "3", "--drive-pacer-min-sleep", "0",
               "--drive-pacer-burst", "1000", *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, timeout=600,
                              text=not binary)
        if check and proc.returncode != 0:
            err = proc.stderr if not binary else proc.stderr.decode(errors="replace")
            raise RuntimeError(f"rclone {' '.join(args)} exited {proc.returncode}: "
                               f"{err.strip()[-1500:]}")
        return proc

    def write_config(self):
        with open(self.conf, "w") as f:
            for name, options in self.remotes.items():
                f.write(f"[{name}]\n")
                for key, value in options.items():
                    f.write(f"{key} = {value}\n")
                f.write("\n")

    def config_token(self, remote):
        """The token rclone keeps in its config for `remote` (it rewrites it on refresh)."""
        section = None
        with open(self.conf) as f:
            for line in f:
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1]
                elif section == remote and line.startswith("token = "):
                    return json.loads(line[len("token = "):])
        raise RuntimeError(f"no token for {remote} in the config")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# ----- accounts and their data ---------------------------------------------------


class Account:
    """One provider account, seeded, with its remotes."""

    def __init__(self, key, provider, email, rtype, hash_name, extra_options, files):
        self.key = key  # remote name prefix: gdrive, odb, odp, dbx
        self.provider = provider
        self.email = email
        self.rtype = rtype
        self.hash = hash_name
        self.extra = extra_options
        self.files = files  # generated tree size
        self.drive = None
        # The named files as they are now at the provider (the suite's
        # changes update it).
        self.named = dict(NAMED)


def seed(suite, acct, drive_type=None):
    client = f"rclone-{acct.key}"
    suite.control("POST", "/clients", {"provider": acct.provider, "clientId": client,
                                       "clientSecret": SECRET, "redirectUris": [REDIRECT]})
    body = {"provider": acct.provider, "email": acct.email, "displayName": acct.key}
    if drive_type:
        body["driveType"] = drive_type
    acct.drive = suite.control("POST", "/accounts", body)["driveId"]
    for path, data in NAMED.items():
        suite.put(acct.provider, acct.drive, path, data)
    suite.control("POST", f"/{acct.provider}/{acct.drive}/generate",
                  {"root": "tree", "files": acct.files, "bytes": 256, "depth": 2})
    options = {"type": acct.rtype, "client_id": client, "client_secret": SECRET,
               "token": json.dumps(suite.token(acct.provider, client, acct.email)),
               **acct.extra(acct)}
    suite.remotes[acct.key] = options
    # The refresh remote: its first token lives SHORT_LIFETIME seconds.
    settings = suite.control("GET", "/settings")
    lifetimes = dict(settings["accessTokenLifetimeSeconds"])
    suite.control("PATCH", "/settings", {"accessTokenLifetimeSeconds":
                                         {**lifetimes, acct.provider: SHORT_LIFETIME}})
    short = suite.token(acct.provider, client, acct.email)
    suite.control("PATCH", "/settings", {"accessTokenLifetimeSeconds": lifetimes})
    suite.remotes[acct.key + "-refresh"] = {**options, "token": json.dumps(short)}


# ----- the checks of one target ------------------------------------------------------


def expected_tree(acct, folder):
    """{path relative to the target: size} of what the target holds now."""
    out = {}
    for path, data in acct.named.items():
        if not folder or path.startswith(folder + "/"):
            out[path[len(folder) + 1:] if folder else path] = len(data)
    if not folder:
        out.update({f"tree/{i}": 256 for i in range(acct.files)})  # counted only
    return out


def local_files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            full = os.path.join(dirpath, n)
            out[os.path.relpath(full, root)] = os.path.getsize(full)
    return out


def hashsum_map(text):
    out = {}
    for line in text.splitlines():
        if line.strip():
            digest, path = line.split("  ", 1)
            out[path] = digest
    return out


def transfers(stderr):
    """rclone -v's per-file lines: copies and deletions."""
    return [line for line in stderr.splitlines()
            if "Copied (" in line or ": Deleted" in line]


def run_target(suite, acct, folder):
    remote = f"{acct.key}:{folder}"
    label = f"{acct.key}:{folder or '(root)'}"
    local = os.path.join(suite.work, "local", f"{acct.key}-{folder or 'root'}".replace("/", "_"))
    want = expected_tree(acct, folder)
    want_files = len(want)
    want_bytes = sum(want.values())
    tag = f"{acct.key}-{'root' if not folder else 'folder'}"

    def lsjson():
        out = json.loads(suite.rclone("lsjson", "-R", "--hash", "--files-only", remote).stdout)
        if len(out) != want_files:
            raise RuntimeError(f"{len(out)} files listed, expected {want_files}")
        missing = [e["Path"] for e in out if e["Size"] > 0 and not (e.get("Hashes") or {}).get(acct.hash)]
        if missing:
            raise RuntimeError(f"{len(missing)} files without a {acct.hash} hash, e.g. {missing[:3]}")
        named = {e["Path"]: e["Size"] for e in out if not e["Path"].startswith("tree/")}
        expected_named = {p: s for p, s in want.items() if not p.startswith("tree/")}
        if named != expected_named:
            raise RuntimeError(f"named files differ: {named} != {expected_named}")
        return f"{len(out)} files, each with {acct.hash}"

    def size():
        out = json.loads(suite.rclone("size", "--json", remote).stdout)
        if (out["count"], out["bytes"]) != (want_files, want_bytes):
            raise RuntimeError(f"{out}, expected count {want_files} bytes {want_bytes}")
        return f"{out['count']} files, {out['bytes']} bytes"

    def copy():
        suite.rclone("copy", remote, local)
        got = local_files(local)
        if len(got) != want_files or sum(got.values()) != want_bytes:
            raise RuntimeError(f"{len(got)} files, {sum(got.values())} bytes locally")
        return f"{len(got)} files"

    # A remote change before the first sync: one new file, one rewritten,
    # one deleted (the deleted one differs per target, so targets stay apart).
    changed = "docs/a.txt"
    added = f"docs/added-{tag}.txt"
    removed = "docs/b c.txt" if not folder else "docs/deep/er/file.txt"
    rel = lambda p: p[len(folder) + 1:] if folder else p  # noqa: E731

    def sync_twice():
        changes = {added: b"added by the suite\n", changed: b"rewritten: " + tag.encode() + b"\n"}
        for path, data in changes.items():
            suite.put(acct.provider, acct.drive, path, data)
        suite.control("DELETE", f"/{acct.provider}/{acct.drive}/files/{urllib.parse.quote(removed)}")
        acct.named.update(changes)
        acct.named.pop(removed)
        first = transfers(suite.rclone("sync", "-v", remote, local).stderr)
        got = local_files(local)
        problems = []
        if rel(added) not in got:
            problems.append(f"{rel(added)} not copied")
        if rel(removed) in got:
            problems.append(f"{rel(removed)} not deleted")
        with open(os.path.join(local, rel(changed)), "rb") as f:
            if not f.read().startswith(b"rewritten"):
                problems.append(f"{rel(changed)} not updated")
        if len(first) != 3:
            problems.append(f"first sync made {len(first)} transfers: {first}")
        second = transfers(suite.rclone("sync", "-v", remote, local).stderr)
        if second:
            problems.append(f"second sync transferred: {second[:5]}")
        if problems:
            raise RuntimeError("; ".join(problems))
        return "3 changes, then none"

    def check():
        out = suite.rclone("check", remote, local)
        return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""

    def hashsum():
        remote_sums = hashsum_map(suite.rclone("hashsum", acct.hash, remote).stdout)
        local_sums = hashsum_map(suite.rclone("hashsum", acct.hash, local).stdout)
        if remote_sums != local_sums:
            diff = [p for p in set(remote_sums) | set(local_sums)
                    if remote_sums.get(p) != local_sums.get(p)]
            raise RuntimeError(f"{len(diff)} paths differ, e.g. {sorted(diff)[:3]}")
        if acct.hash == "md5":  # and against an independent md5
            for path in [p for p in remote_sums if not p.startswith("tree/")]:
                with open(os.path.join(local, path), "rb") as f:
                    if hashlib.md5(f.read()).hexdigest() != remote_sums[path]:
                        raise RuntimeError(f"md5 of {path} differs from hashlib's")
        return f"{len(remote_sums)} {acct.hash} sums equal rclone's local ones"

    def cat():
        path = rel("docs/emoji \U0001f600.bin")
        got = suite.rclone("cat", f"{remote}/{path}" if folder else f"{remote}{path}", binary=True).stdout
        if got != NAMED["docs/emoji \U0001f600.bin"]:
            raise RuntimeError(f"{len(got)} bytes, not the file's")
        return f"{len(got)} bytes"

    def about():
        out = json.loads(suite.rclone("about", "--json", remote).stdout)
        if "used" not in out and "total" not in out:
            raise RuntimeError(f"no usage in {out}")
        return json.dumps(out)

    shutil.rmtree(local, ignore_errors=True)
    for name, fn in [("lsjson -R --hash", lsjson), ("size", size), ("copy", copy),
                     ("sync twice", sync_twice), ("check", check),
                     (f"hashsum {acct.hash}", hashsum), ("cat", cat), ("about", about)]:
        suite.check(f"{label} {name}", fn)
    shutil.rmtree(local, ignore_errors=True)


def run_refresh(suite, acct):
    remote = acct.key + "-refresh"
    # rclone 1.60's Dropbox SDK refreshes at /1/oauth2/token; either counts.
    token_keys = {
        "google": ["google POST /token"],
        "microsoft": ["microsoft POST /{tenant}/oauth2/v2.0/token"],
        "dropbox": ["dropbox POST /oauth2/token", "dropbox POST /1/oauth2/token"],
    }[acct.provider]

    def token_calls():
        counts = suite.counts()
        return sum(counts.get(k, 0) for k in token_keys)

    def refresh():
        old = suite.config_token(remote)
        wait = time.mktime(time.strptime(old["expiry"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        time.sleep(max(0.0, wait - time.time() + 1))
        before = token_calls()
        suite.rclone("lsf", f"{remote}:docs")
        after = token_calls()
        new = suite.config_token(remote)
        problems = []
        if after != before + 1:
            problems.append(f"token endpoint calls went {before} -> {after}")
        if new["access_token"] == old["access_token"]:
            problems.append("the config still holds the expired access token")
        if acct.provider == "microsoft" and new["refresh_token"] == old["refresh_token"]:
            problems.append("Microsoft's rotated refresh token was not saved")
        if problems:
            raise RuntimeError("; ".join(problems))
        return "refreshed through the token endpoint"

    suite.check(f"{remote}: refresh after the token's expiry", refresh)


# ----- main ----------------------------------------------------------------------


def drive_options(acct):
    return {"scope": "drive", "pacer_min_sleep": "0", "pacer_burst": "1000"}


def onedrive_options(drive_type):
    return lambda acct: {"drive_id": acct.drive, "drive_type": drive_type}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cloudsim", required=True)
    parser.add_argument("--only", default="drive,onedrive,dropbox")
    parser.add_argument("--files", type=int, default=10_000,
                        help="files of Drive's generated tree (the others get 500)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    only = set(args.only.split(","))
    accounts = []
    if "drive" in only:
        accounts.append((Account("gdrive", "google", "alice@example.test", "drive", "md5",
                                 drive_options, args.files), None))
    if "onedrive" in only:
        accounts.append((Account("odb", "microsoft", "bob@contoso.test", "onedrive", "quickxor",
                                 onedrive_options("business"), 500), "business"))
        accounts.append((Account("odp", "microsoft", "carol@outlook.test", "onedrive", "sha1",
                                 onedrive_options("personal"), 500), "personal"))
    if "dropbox" in only:
        accounts.append((Account("dbx", "dropbox", "dan@example.test", "dropbox", "dropbox",
                                 lambda a: {}, 500), None))

    # A SIGTERM (CI's timeout) unwinds through the finally below, which
    # stops cloudsim.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    work = tempfile.mkdtemp(prefix="cloudsim-rclone.")
    suite = Suite(args, work)
    started = time.monotonic()
    try:
        suite.isolate()
        suite.start_cloudsim()
        for acct, drive_type in accounts:
            seed(suite, acct, drive_type if acct.provider == "microsoft" else None)
        suite.write_config()
        for acct, _ in accounts:
            run_target(suite, acct, "docs")
            run_target(suite, acct, "")
        for acct, _ in accounts:
            run_refresh(suite, acct)
    except Exception as err:  # noqa: BLE001 - setup failures count as one failure
        suite.failed += 1
        print(f"FAIL setup: {err}", flush=True)
        traceback.print_exc()
    finally:
        suite.stop_cloudsim()
        if suite.failed:
            log = os.path.join(work, "cloudsim.log")
            if os.path.exists(log):
                print("== last cloudsim log lines", file=sys.stderr)
                with open(log) as f:
                    sys.stderr.write("".join(f.readlines()[-20:]))
        shutil.rmtree(work, ignore_errors=True)
    print(f"# {time.monotonic() - started:.0f} s", flush=True)
    print(f"{suite.passed} passed, {suite.failed} failed", flush=True)
    sys.exit(1 if suite.failed else 0)


if __name__ == "__main__":
    main()
