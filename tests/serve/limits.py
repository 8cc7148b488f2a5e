#!/usr/bin/env python3
"""What `sluice serve` refuses before doing any work, with the stable code of each refusal: a
POST nested 70,000 levels deep (as text/plain, to a missing workflow, and as JSON), a body over
`serve.max_body` (a 400 MB Content-Length is answered without reading it; a chunked body is cut
at the limit), a body without Content-Type: application/json, reserved parameters, and more
runs than `runs_per_minute`.
Errors answer {"error", "code"}. The server stays up throughout. Bounded: 60 s.

Usage: limits.py SLUICE
"""
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import Deadline, Server, check, write_project  # noqa: E402

DEADLINE = Deadline(60)


def raw(port, head, timeout=3):
    """Sends the request head alone and reads what comes back within `timeout` seconds."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head.encode())
        data = b""
        t0 = time.monotonic()
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace"), time.monotonic() - t0
    except socket.timeout:
        return "", timeout
    finally:
        s.close()


def chunked(port, size, count):
    """Sends a chunked JSON body of `count` chunks of `size` bytes, one at a time, until the
    server answers; returns the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        s.sendall(b"POST /api/workflows/wf/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        data = b""
        for _ in range(count):
            try:
                s.sendall(b"%x\r\n%s\r\n" % (size, b" " * size))
            except OSError:
                break  # the server answered and closed
            s.settimeout(0.3)
            try:
                data += s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if data:
                break
        s.settimeout(3)
        while data and not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")
    finally:
        s.close()


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-limits-")
    server = None
    try:
        write_project(root, {
            "sluice.yaml": "project: limits\nserve: { max_body: 256KB, runs_per_minute: 3 }\n",
            "workflows/wf.yaml": "workflow: wf\nparameters: { day: today }\n"
                                 "steps: [ { pass: done } ]\n",
        })
        server = Server(sluice, root)

        def alive(after):
            check(server.alive(), f"sluice serve died after {after}: {server.stderr()[-2000:]}")
            status, health = server.call("GET", "/api/health")
            check(status == 200, f"health after {after}: {status} {health}")

        # Nested 70,000 levels deep (~140 KB): refused before anything recurses.
        deep = '{"params": {"day": ' + "[" * 70000 + "]" * 70000 + "}}"
        status, err = server.call("POST", "/api/workflows/nope/runs", deep,
                                  {"Content-Type": "text/plain"})
        alive("a nested text/plain POST")
        check(status == 415 and err.get("code") == "api.content_type" and
              "Content-Type: application/json" in err["error"], f"text/plain: {status} {err}")
        for name in ("nope", "wf"):
            status, err = server.call("POST", f"/api/workflows/{name}/runs", deep,
                                      {"Content-Type": "application/json"})
            alive("a nested JSON POST")
            check(status == 400 and err.get("code") == "api.too_deep" and
                  "nested deeper than 64 levels" in err["error"], f"deep {name}: {status} {err}")

        # Over max_body: 413 at once, from the Content-Length alone; nothing is read.
        status, err = server.call("POST", "/api/workflows/wf/runs",
                                  '{"params": {"day": "' + "x" * 300000 + '"}}',
                                  {"Content-Type": "application/json"})
        check(status == 413 and err.get("code") == "api.body_too_large" and
              "262144 bytes" in err["error"], f"over max_body: {status} {err}")
        answer, took = raw(server.port,
                           "POST /api/workflows/wf/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: 400000000\r\n\r\n")
        check(answer.startswith("HTTP/1.1 413") and "api.body_too_large" in answer and took < 2,
              f"a 400 MB Content-Length: {took:.1f} s: {answer[:300]!r}")
        alive("a 400 MB Content-Length")
        answer = chunked(server.port, 64 * 1024, 8)
        check(answer.startswith("HTTP/1.1 413") and "api.body_too_large" in answer,
              f"a chunked body over max_body: {answer[:300]!r}")
        alive("a chunked body over max_body")

        # A body needs Content-Type: application/json; an empty POST needs none.
        status, err = server.call("POST", "/api/workflows/wf/runs", '{"params": {}}')
        check(status == 415 and err.get("code") == "api.content_type", f"no type: {status} {err}")
        status, run = server.call("POST", "/api/workflows/wf/runs", b"",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        check(status == 201, f"an empty POST: {status} {run}")

        # Reserved parameters are the server's to set.
        for name in ("files", "item", "upstream_run_id", "scheduled_at"):
            status, err = server.call("POST", "/api/workflows/wf/runs",
                                      {"params": {name: "x"}})
            check(status == 400 and err.get("code") == "api.reserved_param" and
                  f"'{name}'" in err["error"], f"reserved {name}: {status} {err}")

        # Every error carries a code.
        for method, path, body, want_status, want_code in (
                ("GET", "/api/nothing", None, 404, "api.not_found"),
                ("POST", "/api/workflows/nope/runs", {}, 404, "api.not_found"),
                ("GET", "/api/runs/999", None, 404, "api.not_found"),
                ("GET", "/api/runs?limit=x", None, 400, "api.bad_parameter"),
                ("GET", "/api/runs?status=paused", None, 400, "api.bad_parameter"),
                ("POST", "/api/workflows/wf/runs", "[1]", 400, "api.bad_body"),
                ("POST", "/api/workflows/wf/runs", '{"params": 1}', 400, "api.bad_body"),
                ("POST", f"/api/runs/{run['id']}/retry", {}, 409, "api.not_retryable")):
            headers = {"Content-Type": "application/json"} if isinstance(body, str) else None
            status, err = server.call(method, path, body, headers)
            check(status == want_status and err.get("code") == want_code and err.get("error"),
                  f"{method} {path}: {status} {err}")

        # runs_per_minute: 3 (one taken above): the fourth run in a minute waits.
        for _ in range(2):
            status, _ = server.call("POST", "/api/workflows/wf/runs", {})
            check(status == 201, f"a run under the limit: {status}")
        status, headers, err = server.request("POST", "/api/workflows/wf/runs", {})
        check(status == 429 and err.get("code") == "api.rate_limited" and
              int(headers.get("Retry-After", "0")) >= 1, f"over the rate: {status} {headers} {err}")
        alive("everything")
        check(server.stop() == 0, "exit status after SIGTERM")
        print("ok: depth, size, content type, reserved parameters, codes and rate refused; "
              "the server stayed up")
    finally:
        if server:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
