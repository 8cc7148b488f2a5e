#!/usr/bin/env python3
"""One client cannot take the whole server: with `serve: { max_connections: 64 }` (so at most
32 connections per client address by default), a client at 127.0.0.2 opens 200 connections and
drips bytes on them; the ones past its cap are closed at once, /api/health from 127.0.0.1 still
answers within 1 s, and once the flood ends that client is served again. Bounded: 60 s.

Usage: per_client.py SLUICE
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
FLOOD, CAP = 200, 32



def connect_from(source, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-per-client-")
    server = None
    flood = []
    try:
        write_project(root, {"sluice.yaml":
                             "project: per_client\nserve: { max_connections: 64 }\n"})
        server = Server(sluice, root)
        for _ in range(FLOOD):
            try:
                s = connect_from("127.0.0.2", server.port)
                s.sendall(b"GET /api/health HTTP/1.1\r\n")
                flood.append(s)
            except OSError:
                pass  # refused outright: also fine
        time.sleep(1)
        for probe in range(4):
            for s in flood:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            t0 = time.monotonic()
            try:
                status, _ = server.request("GET", "/api/health", timeout=3)[:2]
            except OSError as e:
                check(False, f"health from 127.0.0.1 during the flood: {e}")
            took = time.monotonic() - t0
            check(status == 200 and took < 1.0,
                  f"health probe {probe} during the flood: {status} in {took:.2f} s")
            time.sleep(0.5)
        open_ = [s for s in flood if not closed_by_server(s)]
        check(len(open_) <= CAP, f"{len(open_)} of {FLOOD} connections from one client stayed "
              f"open (cap {CAP})")
        check(len(open_) >= CAP // 2, f"only {len(open_)} connections stayed open")
        for s in flood:
            s.close()
        flood = []
        # The flood is over: the same client is served again.
        s = DEADLINE.until("127.0.0.2 served again", lambda: try_health_from("127.0.0.2",
                                                                               server.port))
        check(s, "127.0.0.2 not served after its flood")
        check(server.stop() == 0, "exit status after SIGTERM")
        print(f"ok: {len(open_)} of {FLOOD} connections from 127.0.0.2 kept (cap {CAP}); health "
              "answered; the client was served again")
    finally:
        for s in flood:
            s.close()
        if server:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


def try_health_from(source, port):
    try:
        with connect_from(source, port) as s:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


if __name__ == "__main__":
    main()
