#!/usr/bin/env python3
"""`sluice serve` under cheap load from loopback: 100 slow (slowloris) connections that drip a
header line every second and 40 `logs?follow=1` streams stay open while /api/health answers
within 1 s, five times over; followers past `serve.max_followers` are refused with 503
api.busy, and the server stops cleanly with all of them still open. Bounded: 90 s.

Usage: load.py SLUICE
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

DEADLINE = Deadline(90)
SLOW, FOLLOWERS = 100, 40


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    return s


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-load-")
    server = None
    sockets = []
    try:
        write_project(root, {
            "sluice.yaml": "project: load\nserve: { max_followers: 40 }\n",
            "workflows/slow.yaml": "workflow: slow\nsteps: [ { wait: 60s } ]\n",
        })
        server = Server(sluice, root, "--grace", "1s")
        status, run = server.call("POST", "/api/workflows/slow/runs", {})
        check(status == 201, f"trigger: {status} {run}")
        DEADLINE.until("slow running", lambda: server.call("GET", f"/api/runs/{run['id']}")[1]
                       ["status"] == "running")

        followers = []
        for _ in range(FOLLOWERS):
            s = connect(server.port)
            s.sendall(f"GET /api/runs/{run['id']}/logs?follow=1 HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n\r\n".encode())
            followers.append(s)
        sockets += followers
        for s in followers:  # each stream has started: its headers came back
            check(s.recv(4096).startswith(b"HTTP/1.1 200"), "a follower was not answered")
        slow = []
        for _ in range(SLOW):
            s = connect(server.port)
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(s)
        sockets += slow

        worst = 0.0
        for probe in range(5):
            for s in slow:  # one more header line each: none of them is ever complete
                try:
                    s.sendall(f"X-Drip-{probe}: 1\r\n".encode())
                except OSError:
                    pass  # the server may drop a slow connection; that is allowed
            t0 = time.monotonic()
            try:
                status, health = server.call("GET", "/api/health")
            except OSError as e:
                check(False, f"health probe {probe} failed under load: {e}")
            took = time.monotonic() - t0
            worst = max(worst, took)
            check(status == 200 and took < 1.0,
                  f"health probe {probe} under load: {status} in {took:.2f} s")
            time.sleep(1)

        # Past max_followers: refused at once, not queued.
        status, err = server.call("GET", f"/api/runs/{run['id']}/logs?follow=1")
        check(status == 503 and err.get("code") == "api.busy", f"follower 41: {status} {err}")
        check(server.alive(), "sluice serve died under load")

        t0 = time.monotonic()
        code = server.stop()
        check(code == 0 and time.monotonic() - t0 < 20,
              f"stop under load: exit {code} after {time.monotonic() - t0:.1f} s")
        print(f"ok: /api/health answered within {worst * 1000:.0f} ms with {SLOW} slow "
              f"connections and {FOLLOWERS} followers open")
    finally:
        for s in sockets:
            s.close()
        if server:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
