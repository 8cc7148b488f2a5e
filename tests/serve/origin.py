#!/usr/bin/env python3
"""Who may talk to `sluice serve`: the Host header must name the listen address (or a name in
`serve.allowed_hosts`), so a DNS-rebinding page cannot read answers; a cross-origin request
(Origin or Sec-Fetch-Site other than same-origin, unless the origin's host is allowed) cannot
trigger, cancel or retry runs, nor read. Bounded: 60 s.

Usage: origin.py SLUICE
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import Deadline, Server, check, write_project  # noqa: E402

DEADLINE = Deadline(60)


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-origin-")
    server = None
    try:
        write_project(root, {
            "sluice.yaml": "project: origin\nserve: { allowed_hosts: [sluice.internal] }\n",
            "workflows/wf.yaml": "workflow: wf\nsteps: [ { fail: nope } ]\n",
        })
        server = Server(sluice, root)
        port = server.port
        status, run = server.call("POST", "/api/workflows/wf/runs", {})
        check(status == 201, f"a same-host trigger: {status} {run}")
        DEADLINE.until("the run fails", lambda: server.call("GET", f"/api/runs/{run['id']}")[1]
                       ["status"] == "failed")

        # Host: the listen address, loopback names, allowed names; nothing else.
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "sluice.internal",
                     f"sluice.internal:{port}"):
            status, _ = server.call("GET", "/api/runs", headers={"Host": host})
            check(status == 200, f"Host {host}: {status}")
        for host in (f"rebind.example:{port}", "rebind.example", f"sluice.internal.evil:{port}",
                     ""):
            for method, path in (("GET", "/api/runs"), ("GET", "/api/health"),
                                 ("POST", "/api/workflows/wf/runs")):
                status, err = server.call(method, path, {} if method == "POST" else None,
                                          {"Host": host})
                check(status == 403 and err.get("code") == "api.host" and
                      "allowed_hosts" in err["error"], f"Host {host!r} {path}: {status} {err}")

        # Cross-origin: refused for writes and reads alike.
        same = f"http://127.0.0.1:{port}"
        crossing = ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Origin": f"http://127.0.0.1:{port + 1}"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": same, "Sec-Fetch-Site": "cross-site"})
        for headers in crossing:
            for method, path in (("POST", "/api/workflows/wf/runs"),
                                 ("POST", f"/api/runs/{run['id']}/retry"),
                                 ("POST", f"/api/runs/{run['id']}/cancel"),
                                 ("GET", "/api/runs")):
                status, err = server.call(method, path, {} if method == "POST" else None,
                                          headers)
                check(status == 403 and err.get("code") == "api.cross_origin",
                      f"{headers} {method} {path}: {status} {err}")
        status, runs = server.call("GET", "/api/runs")
        check(len(runs) == 1 and runs[0]["status"] == "failed",
              f"a refused request changed runs: {runs}")
        for headers in ({"Origin": same}, {"Origin": "http://sluice.internal"},
                        {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}):
            status, _ = server.call("GET", "/api/runs", headers=headers)
            check(status == 200, f"{headers}: {status}")
        status, _ = server.call("POST", f"/api/runs/{run['id']}/retry", {},
                                {"Origin": same, "Sec-Fetch-Site": "same-origin"})
        check(status == 202, f"a same-origin retry: {status}")
        check(server.stop() == 0, "exit status after SIGTERM")
        print("ok: Host and Origin checked")
    finally:
        if server:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
