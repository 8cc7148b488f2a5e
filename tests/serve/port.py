#!/usr/bin/env python3
"""One server per port, and a token that is sent is checked: a second `sluice serve` (here of
another project) on a port in use fails at once instead of taking half the calls; on loopback,
where no token is needed, a wrong one is still refused; a second Host header is refused. Bounded: 60 s.

Usage: port.py SLUICE
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import Server, check, write_project  # noqa: E402


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-port-")
    server = None
    try:
        a, b = os.path.join(root, "a"), os.path.join(root, "b")
        write_project(a, {"sluice.yaml": "project: a\n"})
        write_project(b, {"sluice.yaml": "project: b\n"})
        server = Server(sluice, a)
        second = subprocess.run([sluice, "-C", b, "serve", "--listen", f"127.0.0.1:{server.port}"],
                                capture_output=True, text=True, timeout=30)
        check(second.returncode == 2 and "cannot listen on 127.0.0.1" in second.stderr,
              f"a second server on port {server.port}: exit {second.returncode} {second.stderr}")
        for _ in range(4):
            status, health = server.call("GET", "/api/health")
            check(status == 200 and health.get("project") == "a", f"health: {status} {health}")

        status, _ = server.call("GET", "/api/runs")
        check(status == 200, f"no token on loopback: {status}")
        status, err = server.call("GET", "/api/runs", headers={"Authorization": "Bearer nope"})
        check(status == 401 and err.get("code") == "api.unauthorized",
              f"a wrong token on loopback: {status} {err}")
        # One Host, one Content-Length: a second one is refused, not left to chance.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
            c.sendall(f"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                      "Host: evil.example\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := c.recv(65536):
                answer += chunk
        check(answer.startswith(b"HTTP/1.1 400") and b"api.duplicate_header" in answer,
              f"two Host headers: {answer[:200]!r}")
        print("ok")
    finally:
        if server:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
