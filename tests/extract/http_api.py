#!/usr/bin/env python3
"""`sluice extract SOURCE` end to end, against the fake API of apiserver.py (in this process).

Usage: http_api.py SLUICE   (exit 0 when every scenario holds; 1 at the first that does not, with
a line saying what). Bounded: 150 s in all, every subprocess with a timeout.

Each scenario writes its own temporary project (sluice.yaml + sources/NAME.yaml with an
`extract: http:` block) against its own server, runs `sluice -C ROOT extract SOURCE
--format json`, and reads what landed: every `*.jsonl` file under
ROOT/lake/landing/SOURCE/extracted_at=YYYY-MM-DD/, one record per line, as the API served it.

  paginators    page_number, offset, cursor, json_link, header_link, single_page: every record
                once, `rows`/`files`/`requests` in the report agree with what landed and with
                what the server saw; the pages asked for are the expected ones.
  auth_kinds    basic, api_key in a header, api_key in the query, OAuth2 client credentials;
                a wrong token: exit 2 (a refusal is a settings problem), nothing landed, 401
                named.
  incremental   updated_since >= cursor (the server serves the records AT the cursor again):
                a rerun lands nothing; 3 changed + 2 new records (one of them new AT the cursor
                value) land exactly those 5; --full-refresh lands everything again.
  retries       429 + Retry-After: 1 (twice) is waited for; 500 twice is retried; 500 always:
                exit 1 after 5 attempts, nothing landed, HTTP 500 named, no token in output.
  malformed     page 3 is invalid JSON: exit 1, nothing landed, cursor unmoved.
  slow_page     page 3 answers once after 3 s with `timeout: 2s`: retried, every record once.
  kill9         kill -9 mid-run: nothing landed; the rerun lands all once; the next, nothing.
  rate_limit    requests_per_second: 5 spaces 13 requests over >= ~2 s.
  secrets       bearer, OAuth2 and api_key-in-query sources, runs that pass and runs that fail:
                the token and client secret are in no output and no file under ROOT.
  bad_project   an unknown paginator type: exit 2, no request sent.
  oauth_expiry  tokens that live 1 s, a run longer than that: the client gets a new one.
  stuck_pagination  an API that ignores the page parameter: exit 1 at the second page.
  interrupted   Ctrl-C while a slow answer is awaited: exit 130 within seconds, nothing landed.
  pipeline      a workflow: extract step, crawl, a choice on steps.extract_events.rows.
"""
import os
import sys

import base64
import datetime
import json
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from servetest import Deadline, check, write_project  # noqa: E402
import apiserver  # noqa: E402
from apiserver import ApiServer  # noqa: E402

deadline = Deadline(150)
SLUICE = None         # the binary, from argv
SCENARIO = "setup"    # the scenario running, named in every failure
INITIAL = "2000-01-01T00:00:00Z"
MAX_UPDATED = "2024-01-01T00:24:00Z"  # the largest updated_at of the default 250 records

# What each paginator needs in a source, and which endpoint of apiserver.py it reads.
PAGINATORS = {
    "page_number": dict(path="/page_number", params={"per_page": 20}, records="data",
                        paginator={"type": "page_number", "page_param": "page", "base_page": 1,
                                   "total_path": "total_pages"}),
    "offset": dict(path="/offset", params={}, records="items",
                   paginator={"type": "offset", "limit": 20, "offset_param": "offset",
                              "limit_param": "limit", "total_path": "total"}),
    "cursor": dict(path="/cursor", params={"per_page": 20}, records="result.items",
                   paginator={"type": "cursor", "cursor_path": "next_cursor",
                              "cursor_param": "cursor"}),
    "json_link": dict(path="/json_link", params={"per_page": 20}, records="data",
                      paginator={"type": "json_link", "next_url_path": "next"}),
    "header_link": dict(path="/header_link", params={"per_page": 20}, records=None,
                        paginator={"type": "header_link"}),
    "single_page": dict(path="/single", params={}, records="data",
                        paginator={"type": "single_page"}),
}


def expect(cond, message):
    check(cond, f"[{SCENARIO}] {message}")


def tail(text, n=1500):
    text = text or ""
    return text if len(text) <= n else "..." + text[-n:]


def yaml_value(v):
    """A value as YAML flow text: dicts as `{ k: v }`, strings double-quoted (JSON escapes are
    YAML escapes), numbers and booleans bare."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k}: {yaml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)


def data_requests(requests):
    return [r for r in requests if r["path"] in apiserver.DATA_PATHS]


def page_of(request):
    """The 1-based page a data request asked for (apiserver.py's notion of page)."""
    q = request["query"]
    if request["path"] == "/offset":
        return int(q.get("offset", 0)) // int(q.get("limit", 50)) + 1
    if request["path"] == "/cursor":
        start = apiserver.decode_cursor(q["cursor"]) if q.get("cursor") else 0
        return start // int(q.get("per_page", 50)) + 1
    if request["path"] == "/single":
        return 1
    return int(q.get("page", 1))


class Run:
    """One finished `sluice extract`: its process, its report (parsed --format json stdout, or
    None), the data requests the server saw during it, and what it landed."""

    def __init__(self, proc, report, requests, new_files, records):
        self.proc, self.report, self.requests = proc, report, requests
        self.new_files, self.records = new_files, records

    def times(self):
        return [r["time"] for r in self.requests]


class Scenario:
    """A temporary project with its own ApiServer; `with Scenario("name") as s:`."""

    def __init__(self, name, **server_args):
        global SCENARIO
        SCENARIO = name
        self.name = name
        self.token = "tok-" + secrets.token_hex(10)
        self.client_secret = "cs-" + secrets.token_hex(10)
        server_args.setdefault("token", self.token)
        server_args.setdefault("client_secret", self.client_secret)
        self.server_args = server_args
        self.outputs = []   # stdout + stderr of every sluice run, for the secrets checks
        self.procs = []     # Popen children, killed on the way out
        self.env = {k: v for k, v in os.environ.items()
                    if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        self.env.update(NO_COLOR="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
                        API_TOKEN=self.token, CLIENT_SECRET=self.client_secret)

    def __enter__(self):
        self.root = tempfile.mkdtemp(prefix=f"sluice-extract-{self.name}-")
        self.server = ApiServer(**self.server_args)
        self.write("sluice.yaml", "project: x\n")
        return self

    def __exit__(self, kind, exc, tb):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.server.stop()
        failed = kind is not None and not (kind is SystemExit and exc.code in (0, None))
        if failed:
            print(f"  (kept the project of {self.name} in {self.root})", file=sys.stderr)
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        return False

    # -- the project ---------------------------------------------------------------------
    def write(self, rel, text):
        write_project(self.root, {rel: text})

    def source(self, name, kind="page_number", *, auth=None, incremental=False, params=None,
               paginator=None, retries=None, timeout="2s", rps=50, path=None, **extra):
        """Writes sources/NAME.yaml reading the endpoint of paginator `kind`. Bearer auth with
        ${env:API_TOKEN} unless `auth` says otherwise; `params`/`paginator` replace the
        kind's; `extra` adds keys to the http block."""
        spec = PAGINATORS[kind]
        http = {
            "base_url": self.server.url,
            "path": path or spec["path"],
            "params": spec["params"] if params is None else params,
            "headers": {"X-Client": "sluice-test"},
            "auth": auth or {"type": "bearer", "token": "${env:API_TOKEN}"},
            "paginator": paginator or spec["paginator"],
        }
        if spec["records"] is not None:
            http["records"] = spec["records"]
        if incremental:
            http["incremental"] = {"cursor": "updated_at", "param": "updated_since",
                                   "initial_value": INITIAL}
        http["retries"] = retries or {"attempts": 5, "backoff": "100ms", "max_delay": "2s"}
        http["timeout"] = timeout
        http["rate_limit"] = {"requests_per_second": rps}
        http.update(extra)
        lines = [f"source: {name}", "extract:", "  http:"]
        for key, value in http.items():
            if isinstance(value, dict) and not value:
                continue  # no params: leave the key out
            lines.append(f"    {key}: {yaml_value(value)}")
        self.write(f"sources/{name}.yaml", "\n".join(lines) + "\n")

    # -- what is on disk -------------------------------------------------------------------
    def landing(self):
        """{path: bytes} of every file under ROOT/lake/landing/."""
        found = {}
        for folder, _, files in os.walk(os.path.join(self.root, "lake", "landing")):
            for f in files:
                path = os.path.join(folder, f)
                with open(path, "rb") as fh:
                    found[path] = fh.read()
        return found

    def check_new_files(self, source, new_files, data):
        """The new files are JSON lines under lake/landing/SOURCE/extracted_at=<today>/; the
        records in them, in file order."""
        base = os.path.join(self.root, "lake", "landing", source)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        records = []
        for path in sorted(new_files):
            rel = os.path.relpath(path, self.root)
            parent = os.path.dirname(path)
            expect(os.path.dirname(parent) == base and path.endswith(".jsonl"),
                   f"landed {rel}; expected lake/landing/{source}/extracted_at=YYYY-MM-DD/*.jsonl")
            folder = os.path.basename(parent)
            try:
                day = datetime.date.fromisoformat(folder.removeprefix("extracted_at="))
            except ValueError:
                day = None
            expect(folder.startswith("extracted_at=") and day is not None
                   and abs((day - today).days) <= 1,
                   f"landed {rel}: the folder should be extracted_at=<today, {today}>")
            text = data[path].decode("utf-8", "replace")
            for n, line in enumerate(text.splitlines(), 1):
                try:
                    record = json.loads(line)
                except ValueError:
                    expect(False, f"{rel}:{n} is not JSON: {line[:200]!r}")
                expect(isinstance(record, dict) and "id" in record,
                       f"{rel}:{n} is not a record object with an id: {line[:200]!r}")
                records.append(record)
        return records

    # -- running sluice ----------------------------------------------------------------------
    def argv(self, source, *args, fmt_json=True):
        return [SLUICE, "-C", self.root, "extract", source, *args] + \
            (["--format", "json"] if fmt_json else [])

    def extract(self, source, *args, want=0, fmt_json=True):
        """Runs `sluice -C ROOT extract SOURCE ARGS [--format json]` to its end, expecting
        exit `want`. A run that fails lands nothing; no run changes a landed file."""
        before = self.landing()
        start = len(self.server.requests)
        argv = self.argv(source, *args, fmt_json=fmt_json)
        budget = min(60.0, deadline.end - time.monotonic())
        expect(budget > 1, f"out of time before sluice extract {source}")
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=budget, env=self.env)
        except subprocess.TimeoutExpired as e:
            expect(False, f"sluice extract {source} did not finish within {budget:.0f} s"
                          f"\n--- stderr\n{tail(e.stderr if isinstance(e.stderr, str) else '')}")
        except OSError as e:
            expect(False, f"cannot run {SLUICE}: {e}")
        self.outputs.append(p.stdout + p.stderr)
        command = " ".join(["sluice extract", source, *args] + (["--format json"] if fmt_json else []))
        expect(p.returncode == want,
               f"{command} exited {p.returncode}, expected {want}"
               f"\n--- stdout\n{tail(p.stdout)}\n--- stderr\n{tail(p.stderr)}")
        return self._finish(source, p, before, start, command)

    def _finish(self, source, p, before, start, command):
        after = self.landing()
        changed = [os.path.relpath(f, self.root) for f in before if after.get(f) != before[f]]
        expect(not changed, f"{command} changed or removed landed files: {changed[:3]}")
        new_files = sorted(set(after) - set(before))
        requests = data_requests(self.server.requests[start:])
        if p.returncode != 0:
            expect(not new_files, f"{command} failed (exit {p.returncode}) but landed "
                   f"{[os.path.relpath(f, self.root) for f in new_files][:3]}")
            return Run(p, None, requests, [], [])
        records = self.check_new_files(source, new_files, after)
        report = None
        if "--format" in command:
            try:
                report = json.loads(p.stdout)
            except ValueError:
                expect(False, f"{command}: stdout is not one JSON object: {tail(p.stdout, 500)!r}")
            expect(isinstance(report, dict), f"{command}: the report is not an object: {report!r}")
            for key in ("source", "requests", "rows", "files", "cursor"):
                expect(key in report, f"{command}: the report has no {key!r}: {report}")
            expect(report["source"] == source, f"{command}: report source is {report['source']!r}")
            expect(isinstance(report["requests"], int) and report["requests"] >= len(requests),
                   f"{command}: report requests={report['requests']!r}, but the server saw "
                   f"{len(requests)} data requests")
            expect(report["rows"] == len(records),
                   f"{command}: report rows={report['rows']!r}, but {len(records)} records landed")
            expect(report["files"] == len(new_files),
                   f"{command}: report files={report['files']!r}, but {len(new_files)} files landed")
        else:
            expect(p.stdout.strip(), f"{command}: printed nothing on stdout")
        return Run(p, report, requests, new_files, records)

    def popen(self, source, *args):
        proc = subprocess.Popen(self.argv(source, *args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)
        self.procs.append(proc)
        return proc

    # -- assertions shared by scenarios ---------------------------------------------------------
    def expect_all_once(self, run, what, expected=None):
        """The run landed every record the server has (or `expected`) exactly once, each as
        the server serves it now."""
        served = {r["id"]: r for r in (expected if expected is not None else self.server.records)}
        ids = sorted(r["id"] for r in run.records)
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        expect(not dupes, f"{what}: ids landed more than once: {dupes[:10]}")
        missing = sorted(set(served) - set(ids))
        extra = sorted(set(ids) - set(served))
        expect(not missing and not extra, f"{what}: {len(ids)} records landed; missing ids "
               f"{missing[:10]}{'...' if len(missing) > 10 else ''}, unexpected ids {extra[:10]}")
        for r in run.records:
            expect(r == served[r["id"]], f"{what}: landed {r}, the API served {served[r['id']]}")

    def expect_no_landing(self, what, source=None):
        """No file under lake/landing/ (or under lake/landing/SOURCE/)."""
        under = os.path.join(self.root, "lake", "landing", source or "")
        files = [os.path.relpath(f, self.root) for f in self.landing()
                 if f.startswith(os.path.join(under, ""))]
        expect(not files, f"{what}: files under {os.path.relpath(under, self.root)}/: {files[:5]}")


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------

def paginators():
    """Each paginator, bearer auth, 250 records in pages of 20 (13 pages; single_page: 1)."""
    with Scenario("paginators") as s:
        for kind in PAGINATORS:
            s.source(kind, kind)
        for kind in PAGINATORS:
            # single_page once without --format json: a human line, and what landed is checked.
            run = s.extract(kind, fmt_json=kind != "single_page")
            s.expect_all_once(run, kind)
            pages = 1 if kind == "single_page" else 13
            n = len(run.requests)
            expect(pages <= n <= pages + 1,
                   f"{kind}: {n} requests for {pages} pages (at most one more, to see the end)")
            asked = sorted(page_of(r) for r in run.requests)
            expect(asked[:pages] == list(range(1, pages + 1)) and asked[pages:] in ([], [pages + 1]),
                   f"{kind}: pages asked for {asked}, expected 1..{pages} once each")
            for r in run.requests:
                expect(r["headers"].get("authorization") == f"Bearer {s.token}",
                       f"{kind}: a request without the bearer token: {r['path']} {r['query']}")
                expect(r["headers"].get("x-client") == "sluice-test",
                       f"{kind}: a request without the configured X-Client header")
                expect(r["status"] == 200, f"{kind}: a request was answered {r['status']}")
                if kind == "offset":
                    expect(r["query"].get("limit") == "20", f"offset: limit is not 20: {r['query']}")
                elif kind != "single_page":
                    expect(r["query"].get("per_page") == "20",
                           f"{kind}: the per_page param is not on {r['query']}")
            if run.report is not None:
                expect(run.report["requests"] == n,
                       f"{kind}: report requests={run.report['requests']}, the server saw {n}")
                expect(run.report["cursor"] is None,
                       f"{kind}: no incremental, yet cursor={run.report['cursor']!r}")
    print("ok paginators")


def auth_kinds():
    """basic, api_key (header and query), OAuth2 client credentials; a wrong token fails."""
    with Scenario("auth_kinds") as s:
        s.env["WRONG_TOKEN"] = "wrong-" + secrets.token_hex(8)
        params = {"per_page": 50}
        s.source("basic", auth={"type": "basic", "username": "user",
                                "password": "${env:API_TOKEN}"}, params=params)
        s.source("key_header", auth={"type": "api_key", "name": "X-API-Key",
                                     "api_key": "${env:API_TOKEN}", "location": "header"},
                 params=params)
        s.source("key_query", auth={"type": "api_key", "name": "api_key",
                                    "api_key": "${env:API_TOKEN}", "location": "query"},
                 params=params)
        s.source("oauth", auth={"type": "oauth2_client_credentials",
                                "access_token_url": s.server.url + "/oauth/token",
                                "client_id": "cid", "client_secret": "${env:CLIENT_SECRET}"},
                 params=params)
        s.source("wrong", auth={"type": "bearer", "token": "${env:WRONG_TOKEN}"}, params=params)

        basic = "Basic " + base64.b64encode(f"user:{s.token}".encode()).decode()
        for name, sent in (("basic", lambda r: r["headers"].get("authorization") == basic),
                           ("key_header", lambda r: r["headers"].get("x-api-key") == s.token),
                           ("key_query", lambda r: r["query"].get("api_key") == s.token)):
            run = s.extract(name)
            s.expect_all_once(run, name)
            expect(run.requests and all(sent(r) for r in run.requests),
                   f"{name}: a request did not carry the credential as configured")

        run = s.extract("oauth")
        s.expect_all_once(run, "oauth")
        expect(s.server.issued_tokens >= 1, "oauth: no token was asked of /oauth/token")
        issued = {"Bearer " + t for t in s.server.access_tokens}
        expect(all(r["headers"].get("authorization") in issued for r in run.requests),
               "oauth: a data request did not carry an issued access token")

        run = s.extract("wrong", want=2)  # a refusal: the settings need a change
        expect(run.requests, "wrong: no request reached the server")
        expect("401" in run.proc.stderr, f"wrong: stderr does not name HTTP 401: {tail(run.proc.stderr)}")
        expect(s.env["WRONG_TOKEN"] not in run.proc.stdout + run.proc.stderr,
               "wrong: the (wrong) token is printed")
        s.expect_no_landing("wrong", "wrong")
    print("ok auth_kinds")


def incremental():
    """updated_since >= cursor: ties at the cursor are served again and must not land twice."""
    with Scenario("incremental") as s:
        s.source("events", incremental=True, params={"per_page": 50})

        first = s.extract("events")
        s.expect_all_once(first, "first run")
        expect(all(r["query"].get("updated_since") == INITIAL for r in first.requests),
               f"first run: updated_since should be the initial_value {INITIAL} on every request: "
               f"{[r['query'].get('updated_since') for r in first.requests]}")
        expect(first.report["cursor"] == MAX_UPDATED,
               f"first run: cursor={first.report['cursor']!r}, expected {MAX_UPDATED}")

        second = s.extract("events")
        sent = [r["query"].get("updated_since") for r in second.requests]
        expect(second.requests and all(v == MAX_UPDATED for v in sent),
               f"second run: updated_since should be the first run's max updated_at "
               f"{MAX_UPDATED}, was {sent}")
        expect(second.report["rows"] == 0 and not second.records,
               f"second run, nothing changed: landed {len(second.records)} records (ids "
               f"{sorted(r['id'] for r in second.records)[:10]}); the 10 records AT the cursor "
               f"are served again (>=) and were landed already")
        expect(second.report["cursor"] == MAX_UPDATED,
               f"second run: cursor moved to {second.report['cursor']!r}")

        # 3 changed records (a later updated_at), 1 new later record, and 1 new record whose
        # updated_at equals the cursor: it is new, so it lands although it ties with the cursor.
        later = "2024-01-01T01:00:00Z"
        changes = [{"id": i, "name": f"item {i} v2", "updated_at": later} for i in (5, 100, 249)]
        changes += [{"id": 250, "name": "item 250", "updated_at": later},
                    {"id": 251, "name": "item 251 (at the cursor)", "updated_at": MAX_UPDATED}]
        for r in changes:
            s.server.upsert(r)
        third = s.extract("events")
        expect(all(r["query"].get("updated_since") == MAX_UPDATED for r in third.requests),
               "third run: updated_since is not the cursor")
        if 251 not in {r["id"] for r in third.records}:
            expect(False, "third run: record 251, new but with updated_at equal to the cursor "
                          "(a tie), was not landed: records at the cursor must be compared with "
                          "what landed (by id), not skipped")
        s.expect_all_once(third, "third run (3 changed + 2 new)", expected=changes)
        expect(third.report["cursor"] == later, f"third run: cursor={third.report['cursor']!r}")

        fourth = s.extract("events")
        expect(not fourth.records, f"fourth run, nothing changed: landed {len(fourth.records)}")

        full = s.extract("events", "--full-refresh")
        sent = {r["query"].get("updated_since") for r in full.requests}
        expect(sent <= {INITIAL, None},
               f"--full-refresh: updated_since should be absent or {INITIAL}, was {sent}")
        s.expect_all_once(full, "--full-refresh")
        expect(full.report["cursor"] == later, f"--full-refresh: cursor={full.report['cursor']!r}")

        after = s.extract("events")
        expect(all(r["query"].get("updated_since") == later for r in after.requests)
               and not after.records, "the run after --full-refresh should resume from its cursor")
    print("ok incremental")


def retries():
    """429 with Retry-After, 500 twice, 500 always (5 attempts, then exit 1)."""
    with Scenario("retries") as s:
        s.source("events", params={"per_page": 50})  # 5 pages

        s.server.faults = {"fail_429": 2, "retry_after": "1"}
        run = s.extract("events")
        s.expect_all_once(run, "429 twice")
        statuses = [r["status"] for r in run.requests]
        expect(statuses[:3] == [429, 429, 200], f"429 twice: statuses {statuses}")
        t = run.times()
        expect(t[1] - t[0] >= 0.9 and t[2] - t[1] >= 0.9,
               f"429 twice: Retry-After: 1 not honoured, the next requests came after "
               f"{t[1] - t[0]:.2f} s and {t[2] - t[1]:.2f} s")

        s.server.faults = {"fail_500": 2}
        run = s.extract("events")
        s.expect_all_once(run, "500 twice")
        statuses = [r["status"] for r in run.requests]
        expect(statuses[:3] == [500, 500, 200] and len(run.requests) in (7, 8),
               f"500 twice: statuses {statuses}")

        s.server.faults = {"fail_always_500": True}
        run = s.extract("events", want=1)
        expect(len(run.requests) == 5,
               f"500 always: {len(run.requests)} requests, expected the 5 configured attempts")
        err = run.proc.stderr
        expect("500" in err, f"500 always: stderr does not name HTTP 500: {tail(err)}")
        expect(s.token not in err + run.proc.stdout, "500 always: the token is printed")
        s.server.faults = {}
    print("ok retries")


def malformed():
    """Page 3 is invalid JSON: the run fails whole, and the cursor stays."""
    with Scenario("malformed") as s:
        s.source("events", incremental=True)  # pages of 20
        s.server.faults = {"malformed_page": 3}
        run = s.extract("events", want=1)
        expect(any(page_of(r) == 3 for r in run.requests), "page 3 was never asked for")
        s.expect_no_landing("malformed page 3")

        s.server.faults = {}
        run = s.extract("events")
        sent = {r["query"].get("updated_since") for r in run.requests}
        expect(sent == {INITIAL}, f"after the failed run updated_since should still be the "
                                  f"initial_value {INITIAL}, was {sent}")
        s.expect_all_once(run, "rerun")
    print("ok malformed")


def slow_page():
    """Page 3 answers once after 3 s, with `timeout: 2s`: timed out, retried, all once."""
    with Scenario("slow_page") as s:
        s.source("events")  # pages of 20
        s.server.faults = {"slow_page": 3, "slow_page_ms": 3000}
        run = s.extract("events")
        s.expect_all_once(run, "slow page 3")
        third = [r["time"] for r in run.requests if page_of(r) == 3]
        expect(len(third) >= 2, f"page 3 was asked for {len(third)} time(s): the 3 s answer "
                                f"should have timed out (timeout: 2s) and been retried")
        expect(third[1] - third[0] >= 1.5, f"page 3 retried {third[1] - third[0]:.2f} s after "
                                           f"the first try, before the 2 s timeout")
    print("ok slow_page")


def kill9():
    """kill -9 mid-run: nothing lands and the cursor stays; the rerun lands all once."""
    with Scenario("kill9") as s:
        s.source("events", incremental=True, params={"per_page": 10})  # 25 pages
        s.server.faults = {"slow_ms": 150}
        proc = s.popen("events")
        deadline.until("6 requests of the run to be killed",
                       lambda: len(data_requests(s.server.requests)) >= 6 or proc.poll() is not None,
                       timeout=30)
        if proc.poll() is not None:
            out, err = proc.communicate()
            expect(False, f"sluice extract ended (exit {proc.returncode}) after "
                          f"{len(data_requests(s.server.requests))} requests, before the kill"
                          f"\n--- stderr\n{tail(err)}")
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
        s.outputs.append(out + err)
        s.expect_no_landing("killed after 6 requests")

        s.server.faults = {}
        run = s.extract("events")
        sent = {r["query"].get("updated_since") for r in run.requests}
        expect(sent == {INITIAL}, f"after the kill updated_since should still be {INITIAL}: {sent}")
        s.expect_all_once(run, "rerun after kill -9")
        again = s.extract("events")
        expect(not again.records, f"the run after that landed {len(again.records)} records")
    print("ok kill9")


def rate_limit():
    """requests_per_second: 5 and 13 pages: at least ~2.4 s between the first and last."""
    with Scenario("rate_limit") as s:
        s.source("events", rps=5)  # pages of 20: 13 requests
        run = s.extract("events")
        s.expect_all_once(run, "rate limited")
        t = run.times()
        need = (len(t) - 1) / 5 * 0.8
        spent = t[-1] - t[0]
        expect(spent >= need, f"{len(t)} requests in {spent:.2f} s at 5 per second; expected "
                              f">= {need:.2f} s (no burst above the rate)")
        expect(spent < 10, f"{len(t)} requests took {spent:.2f} s at 5 per second: too slow")
    print("ok rate_limit")


def secrets_kept():
    """Bearer, OAuth2 and api_key-in-query sources through runs that pass and runs that fail:
    neither the token nor the client secret (nor an issued access token) leaks."""
    with Scenario("secrets") as s:
        oauth = {"type": "oauth2_client_credentials",
                 "access_token_url": s.server.url + "/oauth/token",
                 "client_id": "cid", "client_secret": "${env:CLIENT_SECRET}"}
        query = {"type": "api_key", "name": "api_key", "api_key": "${env:API_TOKEN}",
                 "location": "query"}
        two = {"attempts": 2, "backoff": "100ms", "max_delay": "1s"}
        s.source("bearer", incremental=True, params={"per_page": 50}, retries=two)
        s.source("oauth", auth=oauth, incremental=True, params={"per_page": 50}, retries=two)
        s.source("query", auth=query, incremental=True, params={"per_page": 50}, retries=two)
        for name in ("bearer", "oauth", "query"):
            s.expect_all_once(s.extract(name), name)
            s.extract(name, fmt_json=False)
            s.server.faults = {"fail_always_500": True}
            s.extract(name, want=1)
            s.server.faults = {"malformed_page": 1}
            s.extract(name, "--full-refresh", want=1)
            s.server.faults = {}
        # A wrong client secret: the token endpoint answers 401.
        s.env["CLIENT_SECRET"] = "cs-wrong-" + secrets.token_hex(8)
        s.extract("oauth", "--full-refresh", want=2)
        wrong_secret = s.env["CLIENT_SECRET"]

        expect(s.server.issued_tokens >= 1, "no OAuth token was issued")
        words = {"the token": s.token, "the client secret": s.client_secret,
                 "the wrong client secret": wrong_secret}
        for i, t in enumerate(s.server.access_tokens):
            words[f"issued access token {i + 1}"] = t
        for n, text in enumerate(s.outputs, 1):
            for what, value in words.items():
                expect(value not in text, f"{what} is in the output of sluice run {n}: "
                                          f"{tail(text, 600)}")
        for folder, _, files in os.walk(s.root):
            for f in files:
                path = os.path.join(folder, f)
                with open(path, "rb") as fh:
                    data = fh.read()
                for what in ("the token", "the client secret", "the wrong client secret"):
                    expect(words[what].encode() not in data,
                           f"{what} is in {os.path.relpath(path, s.root)}")
    print("ok secrets")


def bad_project():
    """An unknown paginator type is a bad project: exit 2, before any request."""
    with Scenario("bad_project") as s:
        s.source("events", paginator={"type": "no_such_paginator"})
        run = s.extract("events", want=2)
        expect(not run.requests, f"{len(run.requests)} requests sent for a bad project")
        expect(run.proc.stderr.strip(), "exit 2 without a message on stderr")
    print("ok bad_project")


def oauth_expiry():
    """Access tokens that live 1 s and a run of ~2 s: the client asks for a new one."""
    with Scenario("oauth_expiry", token_ttl_s=1) as s:
        s.source("events", auth={"type": "oauth2_client_credentials",
                                 "access_token_url": s.server.url + "/oauth/token",
                                 "client_id": "cid", "client_secret": "${env:CLIENT_SECRET}"})
        s.server.faults = {"slow_ms": 150}  # 13 pages: ~2 s
        run = s.extract("events")
        s.expect_all_once(run, "tokens expiring mid-run")
        expect(s.server.issued_tokens >= 2,
               f"{s.server.issued_tokens} token(s) issued for a run longer than their 1 s life")
    print("ok oauth_expiry")


def stuck_pagination():
    """A paginator whose parameter the API ignores (a misspelled page_param) gets the same page
    again and again: the run fails at the second page, landing nothing, instead of running on."""
    with Scenario("stuck") as s:
        s.source("events", paginator={"type": "page_number", "page_param": "pg", "base_page": 1,
                                      "total_path": "total_pages"})
        run = s.extract("events", want=1)
        expect(len(run.requests) == 2, f"stuck: {len(run.requests)} requests, expected 2")
        expect("pagination does not move" in run.proc.stderr, f"stuck: {tail(run.proc.stderr)}")
        s.expect_no_landing("stuck")
    print("ok stuck_pagination")


def interrupted():
    """Ctrl-C while a request waits for a slow answer: the run stops within a few seconds, not
    at the request's timeout, exits 130 and lands nothing; the next run lands everything once."""
    with Scenario("interrupted") as s:
        s.source("events", timeout="1h")
        s.server.faults = {"slow_page": 2, "slow_page_ms": 20000}
        proc = s.popen("events")
        end = time.monotonic() + 20
        while time.monotonic() < end and len(data_requests(s.server.requests)) < 2:
            time.sleep(0.05)
        expect(len(data_requests(s.server.requests)) >= 2, "interrupted: page 2 was never asked")
        time.sleep(0.3)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            expect(False, "interrupted: sluice extract still runs 10 s after Ctrl-C")
        expect(proc.returncode == 130, f"interrupted: exit {proc.returncode}, expected 130")
        expect(time.monotonic() - t0 < 5, "interrupted: took more than 5 s to stop")
        s.expect_no_landing("interrupted")
        s.server.faults = {}
        s.expect_all_once(s.extract("events"), "after the interruption")
    print("ok interrupted")


def pipeline():
    """An extract step in a workflow, then a crawl: the records reach bronze.events once; the
    step's figures are what conditions read; a second run lands and registers nothing new."""
    with Scenario("pipeline") as s:
        s.source("events", incremental=True)
        s.write("workflows/pull.yaml", "workflow: pull\nsteps:\n  - extract: events\n"
                "  - crawl: events\n  - choice:\n      - when: steps.extract_events.rows > 0\n"
                "        steps: [ { pass: {}, name: got_rows } ]\n")

        def sluice(*args):
            p = subprocess.run([SLUICE, "-C", s.root, *args], capture_output=True, text=True,
                               timeout=60, env=s.env)
            s.outputs.append(p.stdout + p.stderr)
            expect(p.returncode == 0, f"sluice {' '.join(args)} exited {p.returncode}: "
                   f"{tail(p.stdout)}{tail(p.stderr)}")
            return p.stdout

        out = json.loads(sluice("run", "pull", "--format", "json"))
        steps = {st["path"]: st for st in out.get("steps", [])} if isinstance(out, dict) else {}
        expect("extract_events" in steps and "choice/0/got_rows" in steps,
               f"workflow steps: {sorted(steps)}; expected extract_events and got_rows")
        expect(steps["extract_events"].get("output", {}).get("rows") == 250,
               f"extract step output: {steps['extract_events'].get('output')}")
        count = sluice("query", "SELECT count(*) AS n, count(DISTINCT id) AS d FROM bronze.events",
                       "--format", "json")
        expect('"n":250' in count.replace(" ", "") and '"d":250' in count.replace(" ", ""),
               f"bronze.events after one run: {count}")
        out = json.loads(sluice("run", "pull", "--format", "json"))
        steps = {st["path"]: st for st in out.get("steps", [])}
        expect(steps["extract_events"].get("output", {}).get("rows") == 0 and
               "choice/0/got_rows" not in steps, f"second run: {sorted(steps)} "
               f"{steps['extract_events'].get('output')}")
        count = sluice("query", "SELECT count(*) AS n FROM bronze.events", "--format", "json")
        expect('"n":250' in count.replace(" ", ""), f"bronze.events after two runs: {count}")
        runs = sluice("runs", "--kind", "extract", "--format", "json")
        expect(runs.count('"kind":"extract"') + runs.count('"kind": "extract"') == 2,
               f"sluice runs --kind extract: {tail(runs)}")
    print("ok pipeline")


SCENARIOS = [paginators, auth_kinds, incremental, retries, malformed, slow_page, kill9,
             rate_limit, secrets_kept, bad_project, oauth_expiry, stuck_pagination, interrupted,
             pipeline]


def main():
    global SLUICE
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} SLUICE", file=sys.stderr)
        sys.exit(2)
    SLUICE = os.path.abspath(sys.argv[1])
    check(os.path.isfile(SLUICE) and os.access(SLUICE, os.X_OK),
          f"{SLUICE} is not an executable file")
    for scenario in SCENARIOS:
        check(time.monotonic() < deadline.end, f"out of time before {scenario.__name__}")
        scenario()
    print("ok extract.http")


if __name__ == "__main__":
    main()
