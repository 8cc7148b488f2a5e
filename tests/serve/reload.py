#!/usr/bin/env python3
"""SIGHUP reload refuses anything that fails to load, and the server stays up running the
definitions it had: a `when` nested 15,000 levels, a DQDL rule file nested 5,000 levels, a YAML
file nested 100,000 levels, a workflow that runs itself, and a FIFO in place of sluice.yaml (which
must not block the reload). A good change afterwards is taken. Bounded: 90 s.

Usage: reload.py SLUICE
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import Deadline, check  # noqa: E402

DEADLINE = Deadline(90)
until = DEADLINE.until

GOOD = "workflow: hello\nsteps:\n  - pass: one\n"


def call(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read())
    c.close()
    return r.status, data


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-reload-")
    server = None
    try:
        write(root, "sluice.yaml", "project: reload\n")
        write(root, "workflows/hello.yaml", GOOD)
        server = subprocess.Popen([sluice, "-C", root, "serve", "--listen", "127.0.0.1:0"],
                                  stdout=subprocess.PIPE, text=True)
        port = None
        while port is None:
            line = server.stdout.readline()
            check(line, "sluice serve exited before listening")
            port = json.loads(line).get("port")

        def refused(what):
            server.send_signal(signal.SIGHUP)
            while True:
                line = server.stdout.readline()
                check(line, f"{what}: the server ended instead of refusing the reload "
                            f"(exit {server.poll()})")
                if "reload refused" in line:
                    return json.loads(line)["message"]

        def runs_old_definition(what):
            check(server.poll() is None, f"{what}: the server died")
            status, health = call(port, "GET", "/api/health")
            check(status == 200 and health["status"] == "ok", f"{what}: health {status} {health}")
            status, run = call(port, "POST", "/api/workflows/hello/runs", {})
            check(status == 201, f"{what}: hello does not start: {status} {run}")
            done = until(f"{what}: the run", lambda: (lambda r: r if r["status"] in (
                "succeeded", "failed") else None)(call(port, "GET", f"/api/runs/{run['id']}")[1]))
            steps = [s["path"] for s in done["steps"]]
            check(done["status"] == "succeeded" and steps == ["one"],
                  f"{what}: the old definition did not run: {done['status']} {steps}")

        runs_old_definition("at start")
        bad = {
            "a deep when": ("workflows/hello.yaml",
                            "workflow: hello\nsteps:\n  - choice:\n      - when: \"" +
                            "(" * 15000 + "true" + ")" * 15000 +
                            "\"\n        steps: [ { pass: two } ]\n",
                            "nested more than 256 levels deep"),
            "a deep rule file": ("jobs/clean.yaml",
                                 "job: clean\ninput: bronze.orders\noutput: silver.orders\n"
                                 "checks: [ { file: checks/deep.dqdl } ]\n",
                                 "checks/deep.dqdl:1:257: nested more than 256 levels deep"),
            "deep YAML": ("workflows/hello.yaml", "workflow: hello\nsteps: " + "[" * 100000,
                          "nested more than 256 levels deep"),
            "a workflow that runs itself": ("workflows/hello.yaml",
                                            "workflow: hello\nsteps:\n  - workflow: hello\n",
                                            "workflow hello runs itself"),
        }
        write(root, "sources/orders.yaml", "source: orders\n")
        write(root, "checks/deep.dqdl", "(" * 5000 + "RowCount > 0" + ")" * 5000 + "\n")
        for what, (rel, text, expected) in bad.items():
            write(root, rel, text)
            message = refused(what)
            check(expected in message, f"{what}: reload error: {message[:300]}")
            runs_old_definition(what)
            if rel == "jobs/clean.yaml":
                os.remove(os.path.join(root, rel))
            else:
                write(root, rel, GOOD)

        # A FIFO in place of sluice.yaml: refused at once, not a reload blocked on open().
        os.rename(os.path.join(root, "sluice.yaml"), os.path.join(root, "sluice.yaml.good"))
        os.mkfifo(os.path.join(root, "sluice.yaml"))
        message = refused("a FIFO as sluice.yaml")
        check("sluice.yaml: a named pipe (FIFO), not a regular file" in message,
              f"FIFO: reload error: {message}")
        runs_old_definition("a FIFO as sluice.yaml")
        os.remove(os.path.join(root, "sluice.yaml"))
        os.rename(os.path.join(root, "sluice.yaml.good"), os.path.join(root, "sluice.yaml"))

        # A good change is taken.
        write(root, "workflows/hello.yaml", "workflow: hello\nsteps:\n  - pass: two\n")
        server.send_signal(signal.SIGHUP)
        while "reloaded the project" not in line:
            line = server.stdout.readline()
            check(line, "no 'reloaded the project' line")
        status, run = call(port, "POST", "/api/workflows/hello/runs", {})
        done = until("the new run", lambda: (lambda r: r if r["status"] in (
            "succeeded", "failed") else None)(call(port, "GET", f"/api/runs/{run['id']}")[1]))
        check([s["path"] for s in done["steps"]] == ["two"], f"new definition: {done['steps']}")
        print("ok reload")
    finally:
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
