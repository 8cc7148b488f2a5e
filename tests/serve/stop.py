#!/usr/bin/env python3
"""Graceful stop and concurrency limits of `sluice serve`: SIGTERM lets a short step finish
within --grace; a longer one is interrupted, its run goes back to the queue and resumes at the
next start (the interrupted attempt recorded); max_concurrent_runs keeps runs of a workflow from
overlapping. Bounded: 90 s.

Usage: stop.py SLUICE
"""
import datetime
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import Deadline, check  # noqa: E402

DEADLINE = Deadline(90)
until = DEADLINE.until


def ms(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


class Server:
    def __init__(self, sluice, root, grace):
        self.proc = subprocess.Popen([sluice, "-C", root, "serve", "--listen", "127.0.0.1:0",
                                      "--grace", grace], stdout=subprocess.PIPE, text=True)
        self.port = None
        while self.port is None:
            line = self.proc.stdout.readline()
            check(line, "sluice serve exited before listening")
            self.port = json.loads(line).get("port")

    def call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=None if body is None else json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = json.loads(r.read())
        c.close()
        return data

    def stop(self):
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        return code, time.monotonic() - t0


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-stop-")
    server = None
    try:
        files = {
            "sluice.yaml": "project: stop\n",
            "workflows/short.yaml": "workflow: short\nsteps: [ { wait: 1s }, { pass: done } ]\n",
            "workflows/long.yaml": "workflow: long\nsteps: [ { wait: 3s }, { pass: done } ]\n",
            "workflows/single.yaml": ("workflow: single\nmax_concurrent_runs: 1\n"
                                      "steps: [ { wait: 200ms } ]\n"),
        }
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)

        # max_concurrent_runs: 1 -> three runs one after the other.
        server = Server(sluice, root, "5s")
        ids = [server.call("POST", "/api/workflows/single/runs", {})["id"] for _ in range(3)]
        runs = until("single runs", lambda: [r for r in (server.call("GET", f"/api/runs/{i}")
                                                         for i in ids)
                                             if r["status"] == "succeeded"] if all(
            server.call("GET", f"/api/runs/{i}")["status"] == "succeeded" for i in ids) else None)
        spans = sorted((ms(r["started_at"]), ms(r["ended_at"])) for r in runs)
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            check(s2 >= e1, f"runs of `single` overlapped: {spans}")

        # SIGTERM with a short step in flight: the step finishes within the grace period, no
        # new step starts, and the run waits in the queue for the next start.
        short = server.call("POST", "/api/workflows/short/runs", {})["id"]
        # Its step has started (a claimed run whose first step has not begun just waits).
        until("short running", lambda: any(
            st["path"] == "wait" and st["status"] == "running"
            for st in server.call("GET", f"/api/runs/{short}")["steps"]))
        code, took = server.stop()
        check(code == 0, f"exit status {code}")
        out = subprocess.run([sluice, "-C", root, "runs", "show", str(short), "--format",
                              "json"], capture_output=True, text=True, timeout=30)
        run = json.loads(out.stdout)
        steps = {s["path"]: s for s in run["steps"]}
        check(run["status"] == "queued" and steps["wait"]["status"] == "succeeded" and
              "done" not in steps, f"the step in flight finished, the next did not start: {run}")

        # SIGTERM with a long step in flight: interrupted after the grace, queued, resumed.
        server = Server(sluice, root, "300ms")
        long = server.call("POST", "/api/workflows/long/runs", {})["id"]
        until("long running", lambda: any(
            st["path"] == "wait" and st["status"] == "running"
            for st in server.call("GET", f"/api/runs/{long}")["steps"]))
        time.sleep(0.2)
        code, took = server.stop()
        check(code == 0 and took < 5, f"stop took {took:.1f} s, exit {code}")
        out = subprocess.run([sluice, "-C", root, "runs", "show", str(long), "--format", "json"],
                             capture_output=True, text=True, timeout=30)
        run = json.loads(out.stdout)
        check(run["status"] == "queued", f"an interrupted run waits for the next start: {run}")
        logs = subprocess.run([sluice, "-C", root, "logs", str(long)], capture_output=True,
                              text=True, timeout=30).stdout
        check("resume at its next start" in logs, f"the log says why: {logs}")

        server = Server(sluice, root, "5s")
        until("long resumed", lambda: server.call("GET", f"/api/runs/{long}")["status"]
              == "succeeded", timeout=30)
        detail = server.call("GET", f"/api/runs/{short}")
        check(detail["status"] == "succeeded", f"the short run resumed: {detail['status']}")
        wait = [s for s in detail["steps"] if s["path"] == "wait"][0]
        check(len(wait["attempts"]) == 1, "a step that finished before the stop is not re-run")
        detail = server.call("GET", f"/api/runs/{long}")
        wait = [s for s in detail["steps"] if s["path"] == "wait"][0]
        check([a["status"] for a in wait["attempts"]] == ["interrupted", "succeeded"],
              f"attempts: {wait['attempts']}")
        code, _ = server.stop()
        server = None
        check(code == 0, "clean stop")
        print("ok: max_concurrent_runs, a step finishing within --grace, an interrupted run "
              "resumed at the next start")
    finally:
        if server and server.proc.poll() is None:
            server.proc.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
