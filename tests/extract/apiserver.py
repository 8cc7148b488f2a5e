#!/usr/bin/env python3
"""A fake paginated HTTP API for the tests of `sluice extract` (tests/extract/*.py).

    with ApiServer() as server:          # ThreadingHTTPServer on 127.0.0.1:<free port>
        ... server.url ...               # "http://127.0.0.1:PORT"
        server.faults = {"fail_429": 2}  # or POST /_control from another process
        ... server.requests ...          # what the client sent

Run standalone (`python3 apiserver.py [--port N] [--records N]`) it prints its URL and token
and serves until Ctrl-C, for trying a client by hand with curl.

Records
-------
A record is a JSON object with at least "id" (int) and "updated_at" (a UTC time written
exactly `YYYY-MM-DDTHH:MM:SSZ`). The default 250 records are
`{"id": i, "name": "item i", "updated_at": 2024-01-01T00:00:00Z + (i // 10) minutes}`, so every
updated_at value is shared by 10 records and an incremental cursor always meets ties.
Records are always served sorted by (updated_at, id). `set_records()` replaces them all,
`upsert()` replaces one by id (or adds it).

Every data endpoint takes an optional `updated_since=<time>` and then serves only the records
with updated_at >= updated_since. Note >=: the records AT the cursor are served again, on
purpose (that is what many real APIs do), so a client must not land them twice. A value not in
the exact format above is a 400. Counts and page totals are taken after this filter.

Data endpoints (GET; every one needs auth, see below; answers are application/json)
-----------------------------------------------------------------------------------
/page_number?page=P&per_page=N   P >= 1 (default 1), N in 1..1000 (default 50)
    -> {"data": [...], "total_pages": T}, T = ceil(count / N) (0 when nothing matches);
       a page past the end -> {"data": [], "total_pages": T}.
/offset?offset=O&limit=L         O >= 0 (default 0), L in 1..1000 (default 50)
    -> {"items": [...], "total": count}
/cursor?cursor=C&per_page=N      no cursor = the start; C is opaque (urlsafe base64 of
                                 "offset:<n>"); a cursor that does not decode is a 400
    -> {"result": {"items": [...]}, "next_cursor": "<opaque>" | null}   (null on the last page)
/json_link?page=P&per_page=N
    -> {"data": [...], "next": "http://127.0.0.1:PORT/json_link?page=P+1&..." | null}
/header_link?page=P&per_page=N
    -> a bare JSON array of records, with the header
       `Link: <http://127.0.0.1:PORT/header_link?page=P+1&...>; rel="next"` unless it is the
       last page (no Link header at all then).
    The next links are absolute and carry every query parameter of the request (per_page,
    updated_since, anything else) except `page`, which is replaced, and `api_key`, which is
    dropped: a link never carries a credential; the client authenticates each request itself.
    "Last page" means the page reaches the end of the records (a page that is exactly full at
    the end has no next link; an empty page past the end has none either).
/single                          -> {"data": [every matching record]}

Auth (data endpoints only; missing or wrong -> 401 {"error": "unauthorized"})
-----------------------------------------------------------------------------
- `Authorization: Bearer <t>`, t = the constructor's token or an unexpired issued OAuth token;
- `Authorization: Basic base64("user:<token>")`;
- header `X-API-Key: <token>`;
- query parameter `api_key=<token>`.

POST /oauth/token (form-encoded body, `grant_type=client_credentials`; the client id and
secret as HTTP Basic auth or as the form fields client_id / client_secret)
    -> {"access_token": "...", "token_type": "Bearer", "expires_in": token_ttl_s}.
    Wrong or missing credentials -> 401 {"error": "invalid_client"}; another grant type -> 400
    {"error": "unsupported_grant_type"}. Each issued token is a valid bearer token for
    token_ttl_s seconds, then 401. `issued_tokens` counts them, `access_tokens` lists them.
    Faults never apply to this endpoint.

Faults (`server.faults`, a dict; or POST /_control with a JSON object that replaces it)
--------------------------------------------------------------------------------------
They apply to data requests only (the six endpoints above), after the auth check: an
unauthenticated request is answered 401 and consumes no fault. In the order checked:
  slow_ms: int          every data response (errors included) waits this long first.
  slow_page: int P      the first request for page P (see "page" below) waits slow_page_ms
  slow_page_ms: int       (default 3000) before answering. One-shot: the fault is consumed
  slow_page_hits: int     when the request ARRIVES, so a retry sent while the slow answer is
                          still sleeping is served at once. slow_page_hits (default 1) makes it
                          hit that many times instead.
  fail_always_500: bool every data request -> 500 {"error": "injected failure"}.
  fail_429: int N       the next N data requests -> 429 {"error": "rate limited"} with
  retry_after             `Retry-After: <retry_after>` (default "1"). Counts down to 0.
  fail_500: int N       the next N data requests -> 500 {"error": "injected failure"}.
                          fail_429 is used up before fail_500.
  malformed_page: int P every response for page P is status 200, application/json, with a
                          truncated body (`{"data": [ {"id": 1,` for objects, `[ {"id": 1,`
                          for header_link). Persistent until cleared, so retries meet it too.

"page" for slow_page / malformed_page is the 1-based page of the listing in whatever
pagination the endpoint uses: the `page` parameter for page_number, json_link and
header_link; offset // limit + 1 for offset; the decoded cursor offset // per_page + 1 for
cursor; always 1 for single. It is NOT the count of requests.

Control endpoints (no auth; not recorded in `requests`; no faults)
-----------------------------------------------------------------
POST /_control  body: a JSON object -> replaces the faults; answers {"faults": {...}}
GET  /_control  -> {"faults": {...}}
GET  /_stats    -> {"requests": N, "issued_tokens": K}  (N = len(requests))

Anything else -> 404 {"error": "not found"}; bad parameters -> 400 {"error": "..."}.

Recorded requests
-----------------
`server.requests` is a snapshot list (taken under a lock) of one dict per request, in arrival
order, every path but /_control and /_stats (so /oauth/token and 404s are there):
    {"method", "path", "query": {name: last value}, "headers": {lower-case name: value},
     "time": time.monotonic() at arrival, "status": the status answered (None until then)}
"""
import argparse
import base64
import binascii
import datetime
import http.server
import json
import math
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse

DATA_PATHS = ("/page_number", "/offset", "/cursor", "/json_link", "/header_link", "/single")
CONTROL_PATHS = ("/_control", "/_stats")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
MAX_PER_PAGE = 1000


def default_records(count=250):
    """`count` records; record i was updated at 2024-01-01T00:00:00Z + (i // 10) minutes."""
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return [{"id": i, "name": f"item {i}",
             "updated_at": (base + datetime.timedelta(minutes=i // 10)).strftime(TIME_FORMAT)}
            for i in range(count)]


def sort_key(record):
    return (str(record.get("updated_at", "")), record.get("id", 0))


class BadRequest(Exception):
    """A 400 with this message."""


def _int_param(query, name, default, low, high=None):
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {text!r}")
    if value < low or (high is not None and value > high):
        raise BadRequest(f"{name} must be in {low}..{high if high is not None else 'inf'}")
    return value


def encode_cursor(offset):
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_cursor(text):
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        kind, _, number = raw.partition(":")
        if kind != "offset" or not number.isdigit():
            raise ValueError(raw)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(f"not a cursor this server issued: {text!r}")


class ApiServer:
    def __init__(self, records=None, token="secret-token-123", client_id="cid",
                 client_secret="csecret", token_ttl_s=3600, port=0):
        self.token, self.client_id, self.client_secret = token, client_id, client_secret
        self.token_ttl_s = token_ttl_s
        self._lock = threading.Lock()
        self._records = []
        self.set_records(default_records() if records is None else records)
        self._faults = {}
        self._requests = []
        self._tokens = {}          # issued access token -> monotonic expiry
        self.access_tokens = []    # every issued token, in order
        self.errors = []           # tracebacks of handler bugs (the server keeps running)
        handler = type("Handler", (_Handler,), {"api": self})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="apiserver",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # -- lifetime --------------------------------------------------------------------------
    def stop(self):
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- records -----------------------------------------------------------------------------
    def set_records(self, records):
        records = [dict(r) for r in records]
        for r in records:
            if "id" not in r or not TIME_RE.match(str(r.get("updated_at", ""))):
                raise ValueError(f"a record needs an id and an updated_at like "
                                 f"2024-01-01T00:00:00Z: {r}")
        with self._lock:
            self._records = sorted(records, key=sort_key)

    def upsert(self, record):
        """Replaces the record with the same id, or adds it."""
        if "id" not in record or not TIME_RE.match(str(record.get("updated_at", ""))):
            raise ValueError(f"a record needs an id and an updated_at: {record}")
        with self._lock:
            rest = [r for r in self._records if r["id"] != record["id"]]
            self._records = sorted(rest + [dict(record)], key=sort_key)

    @property
    def records(self):
        """A copy of the records, in serving order."""
        with self._lock:
            return [dict(r) for r in self._records]

    def matching(self, updated_since):
        with self._lock:
            if updated_since is None:
                return list(self._records)
            return [r for r in self._records if str(r["updated_at"]) >= updated_since]

    # -- faults ----------------------------------------------------------------------------
    @property
    def faults(self):
        """The live fault dict (item assignment works); assigning replaces it."""
        return self._faults

    @faults.setter
    def faults(self, value):
        if not isinstance(value, dict):
            raise TypeError("faults must be a dict")
        with self._lock:
            self._faults = dict(value)

    def _take_fault(self, page):
        """Decides, under the lock, what the faults do to one data request for `page`:
        (delay seconds, ("status", code, extra headers) | ("malformed",) | None)."""
        with self._lock:
            f = self._faults
            delay = float(f.get("slow_ms") or 0) / 1000
            slow_page = f.get("slow_page")
            if slow_page is not None and int(slow_page) == page:
                hits = int(f.get("slow_page_hits", 1))
                if hits > 0:
                    delay += float(f.get("slow_page_ms", 3000)) / 1000
                    f["slow_page_hits"] = hits - 1
            if f.get("fail_always_500"):
                return delay, ("status", 500, {})
            if int(f.get("fail_429") or 0) > 0:
                f["fail_429"] = int(f["fail_429"]) - 1
                return delay, ("status", 429, {"Retry-After": str(f.get("retry_after", "1"))})
            if int(f.get("fail_500") or 0) > 0:
                f["fail_500"] = int(f["fail_500"]) - 1
                return delay, ("status", 500, {})
            malformed = f.get("malformed_page")
            if malformed is not None and int(malformed) == page:
                return delay, ("malformed",)
            return delay, None

    # -- requests and tokens -----------------------------------------------------------------
    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def clear_requests(self):
        with self._lock:
            self._requests.clear()

    def _record(self, entry):
        with self._lock:
            self._requests.append(entry)

    @property
    def issued_tokens(self):
        with self._lock:
            return len(self.access_tokens)

    def _issue_token(self):
        token = "at-" + secrets.token_hex(12)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl_s
            self.access_tokens.append(token)
        return token

    def _bearer_ok(self, token):
        if token == self.token:
            return True
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and time.monotonic() < expiry


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that hangs up mid-request is normal here (timeouts, kill -9): stay quiet.
        Anything else is kept in api.errors rather than printed."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        import traceback
        self.RequestHandlerClass.api.errors.append(traceback.format_exc())


class _Handler(http.server.BaseHTTPRequestHandler):
    api = None                      # the ApiServer, set on a per-server subclass
    protocol_version = "HTTP/1.1"   # keep-alive, every answer has a Content-Length
    timeout = 30                    # an idle kept-alive connection is closed after this

    def log_message(self, *args):
        pass

    # -- plumbing ----------------------------------------------------------------------------
    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method):
        self._entry = None
        try:
            split = urllib.parse.urlsplit(self.path)
            path = split.path
            pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
            query = {k: v for k, v in pairs}
            body = self._body()
            if path not in CONTROL_PATHS:
                self._entry = {"method": method, "path": path, "query": query,
                               "headers": {k.lower(): v for k, v in self.headers.items()},
                               "time": time.monotonic(), "status": None}
                self.api._record(self._entry)
            self._route(method, path, query, pairs, body)
        except BadRequest as e:
            self._json(400, {"error": str(e)})
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (a timeout): nothing to answer
        except Exception as e:  # a bug here must not kill the thread or hang the client
            import traceback
            self.api.errors.append(traceback.format_exc())
            try:
                self._json(500, {"error": f"server bug: {type(e).__name__}"})
            except OSError:
                self.close_connection = True

    def _body(self):
        """The request body (Content-Length or chunked; at most 1 MiB is kept)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers, up to the blank line
                        pass
                    return b"".join(chunks)[:1 << 20]
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest("bad Content-Length")
        if length > 1 << 20:
            self.close_connection = True  # the rest is not read: the connection is unusable
        return self.rfile.read(min(length, 1 << 20)) if length > 0 else b""

    def _send(self, status, body, content_type="application/json", headers=None):
        if self._entry is not None:
            self._entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _json(self, status, value, headers=None):
        self._send(status, json.dumps(value).encode(), headers=headers)

    # -- routing -----------------------------------------------------------------------------
    def _route(self, method, path, query, pairs, body):
        if path == "/_stats" and method == "GET":
            return self._json(200, {"requests": len(self.api.requests),
                                    "issued_tokens": self.api.issued_tokens})
        if path == "/_control":
            if method == "GET":
                return self._json(200, {"faults": dict(self.api.faults)})
            if method == "POST":
                try:
                    faults = json.loads(body or b"{}")
                except ValueError:
                    raise BadRequest("the body must be a JSON object")
                if not isinstance(faults, dict):
                    raise BadRequest("the body must be a JSON object")
                self.api.faults = faults
                return self._json(200, {"faults": dict(self.api.faults)})
        if path == "/oauth/token" and method == "POST":
            return self._token(body)
        if path in DATA_PATHS and method == "GET":
            return self._data(path, query, pairs)
        if path in DATA_PATHS or path in CONTROL_PATHS or path == "/oauth/token":
            return self._json(405, {"error": f"{method} not allowed on {path}"})
        return self._json(404, {"error": "not found"})

    def _basic(self):
        """(user, password) from an Authorization: Basic header, or None."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode() \
                .partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None

    def _authorized(self, query):
        api = self.api
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and api._bearer_ok(value.strip()):
            return True
        if self._basic() == ("user", api.token):
            return True
        if self.headers.get("X-API-Key") == api.token:
            return True
        return query.get("api_key") == api.token

    def _token(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            return self._json(400, {"error": "unsupported_grant_type"})
        basic = self._basic()
        creds = basic if basic else (form.get("client_id"), form.get("client_secret"))
        if creds != (self.api.client_id, self.api.client_secret):
            return self._json(401, {"error": "invalid_client"})
        self._json(200, {"access_token": self.api._issue_token(), "token_type": "Bearer",
                         "expires_in": self.api.token_ttl_s})

    # -- data --------------------------------------------------------------------------------
    def _data(self, path, query, pairs):
        if not self._authorized(query):
            return self._json(401, {"error": "unauthorized"})
        since = query.get("updated_since")
        if since is not None and not TIME_RE.match(since):
            raise BadRequest("updated_since must look like 2024-01-01T00:00:00Z")
        records = self.api.matching(since)

        # Which slice of `records` is asked for, and which page of the listing that is.
        if path == "/offset":
            start = _int_param(query, "offset", 0, 0)
            size = _int_param(query, "limit", 50, 1, MAX_PER_PAGE)
            page = start // size + 1
        elif path == "/cursor":
            size = _int_param(query, "per_page", 50, 1, MAX_PER_PAGE)
            start = decode_cursor(query["cursor"]) if query.get("cursor") else 0
            page = start // size + 1
        elif path == "/single":
            start, size, page = 0, max(len(records), 1), 1
        else:
            page = _int_param(query, "page", 1, 1)
            size = _int_param(query, "per_page", 50, 1, MAX_PER_PAGE)
            start = (page - 1) * size
        items = records[start:start + size]
        more = start + size < len(records)

        delay, fault = self.api._take_fault(page)
        if delay > 0:
            time.sleep(delay)
        if fault and fault[0] == "status":
            _, code, headers = fault
            message = "rate limited" if code == 429 else "injected failure"
            return self._json(code, {"error": message}, headers=headers)
        if fault and fault[0] == "malformed":
            broken = b'[ {"id": 1,' if path == "/header_link" else b'{"data": [ {"id": 1,'
            return self._send(200, broken)

        if path == "/page_number":
            return self._json(200, {"data": items,
                                    "total_pages": math.ceil(len(records) / size)})
        if path == "/offset":
            return self._json(200, {"items": items, "total": len(records)})
        if path == "/cursor":
            return self._json(200, {"result": {"items": items},
                                    "next_cursor": encode_cursor(start + size) if more else None})
        if path == "/single":
            return self._json(200, {"data": items})
        # json_link / header_link: the next page keeps every other parameter but api_key.
        kept = [(k, v) for k, v in pairs if k not in ("page", "api_key")]
        nxt = (f"{self.api.url}{path}?" + urllib.parse.urlencode([("page", page + 1)] + kept)
               if more else None)
        if path == "/json_link":
            return self._json(200, {"data": items, "next": nxt})
        return self._json(200, items, headers={"Link": f'<{nxt}>; rel="next"'} if nxt else None)


def main():
    parser = argparse.ArgumentParser(description="A fake paginated API (see the docstring).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--records", type=int, default=250)
    parser.add_argument("--token", default="secret-token-123")
    args = parser.parse_args()
    server = ApiServer(records=default_records(args.records), token=args.token, port=args.port)
    # Ctrl-C or SIGTERM: stop serving and exit 0.
    def interrupt(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print(server.url, flush=True)
    print(f"token: {server.token}  oauth client: {server.client_id}/{server.client_secret}",
          file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
