#!/usr/bin/env python3
"""The issue's measure with a real slowloris: 100 connections that drip one header byte every
0.5 s and 40 `logs?follow=1` streams, all from loopback, while /api/health answers within 1 s
throughout; and no request head may take forever: the dripping connections are closed by the
server once their head is 10 s late (its idle timeout restarts with each byte, the deadline
does not). Bounded: 60 s.

Usage: slowloris.py SLUICE
"""
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import (Deadline, Server, check, closed_by_server,  # noqa: E402
                       write_project)

DEADLINE = Deadline(60)
SLOW, FOLLOWERS = 100, 40



def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-slowloris-")
    server = None
    sockets = []
    try:
        write_project(root, {
            "sluice.yaml": "project: slowloris\nserve: { max_followers: 40 }\n",
            "workflows/slow.yaml": "workflow: slow\nsteps: [ { wait: 60s } ]\n",
        })
        server = Server(sluice, root, "--grace", "1s")
        status, run = server.call("POST", "/api/workflows/slow/runs", {})
        check(status == 201, f"trigger: {status} {run}")
        for _ in range(FOLLOWERS):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(f"GET /api/runs/{run['id']}/logs?follow=1 HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n\r\n".encode())
            sockets.append(s)
        for s in sockets:
            check(s.recv(4096).startswith(b"HTTP/1.1 200"), "a follower was not answered")

        head = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + b"a" * 200
        slow = [socket.create_connection(("127.0.0.1", server.port), timeout=5)
                for _ in range(SLOW)]
        sockets += slow
        opened = time.monotonic()
        worst, closed_at, sent = 0.0, None, 0
        while time.monotonic() - opened < 16:
            for s in slow:  # one more byte each: no head is ever complete
                try:
                    s.sendall(head[sent % len(head):sent % len(head) + 1])
                except OSError:
                    pass
            sent += 1
            t0 = time.monotonic()
            status, _ = server.call("GET", "/api/health")
            took = time.monotonic() - t0
            worst = max(worst, took)
            check(status == 200 and took < 1.0,
                  f"health after {t0 - opened:.1f} s of dripping: {status} in {took:.2f} s")
            if closed_at is None and all(closed_by_server(s) for s in slow):
                closed_at = time.monotonic() - opened
                break
            time.sleep(max(0.0, 0.5 - took))
        check(closed_at is not None and 9 <= closed_at <= 13,
              f"the dripping connections were not closed 10 s after they opened "
              f"({sum(closed_by_server(s) for s in slow)} of {SLOW} closed after "
              f"{time.monotonic() - opened:.1f} s)")
        check(not any(closed_by_server(s) for s in sockets[:FOLLOWERS]),
              "a follower was closed with the dripping connections")
        status, _ = server.call("GET", "/api/health")
        check(status == 200 and server.alive(), f"health after the sweep: {status}")
        code = server.stop()
        check(code == 0, f"stop: exit {code}")
        print(f"ok: health within {worst * 1000:.0f} ms under {SLOW} dripping connections and "
              f"{FOLLOWERS} followers; the dripping ones closed after {closed_at:.1f} s")
    finally:
        for s in sockets:
            s.close()
        if server:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
