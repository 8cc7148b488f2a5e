#!/usr/bin/env python3
"""`sluice serve` end to end over HTTP, with a real webhook receiver: arrival trigger, chaining,
the API (health, workflows, runs, detail with attempts, logs and follow, trigger, cancel, retry,
metrics), the CLI against the same metastore, a failure alert with its HMAC signature and a
retried delivery, OpenLineage events, SIGHUP reload, SIGTERM stop. Bounded: 120 s.

Usage: api.py SLUICE
"""
import datetime
import hashlib
import hmac
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
from servetest import Deadline, check, receiver  # noqa: E402

DEADLINE = Deadline(120)
until = DEADLINE.until
SECRET = "hook-secret-4f9a1c"


class Api:
    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=None if body is None else json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        kind = r.getheader("Content-Type", "")
        return r.status, (json.loads(data) if "json" in kind and "ndjson" not in kind else
                          data.decode())


def records(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-api-")
    procs = []
    try:
        hook, hook_port, hook_file = receiver(root, "hook", fail_first=1)
        lineage, lineage_port, lineage_file = receiver(root, "lineage")
        procs += [hook, lineage]
        files = {
            "sluice.yaml": (
                "project: api\n"
                "notifications:\n"
                f"  team: {{ webhook: \"http://127.0.0.1:{hook_port}/hook\", "
                "secret: \"${env:HOOK_SECRET}\", on: [failure], attempts: 3 }\n"
                f"lineage: {{ url: \"http://127.0.0.1:{lineage_port}/lineage\", namespace: api }}\n"),
            "sources/orders.yaml": "source: orders\nformat: csv\n",
            "jobs/clean.yaml": ("job: clean\ninput: bronze.orders\nincremental: true\n"
                                "output: { table: silver.orders, mode: append }\n"),
            "workflows/load.yaml": ("workflow: load\ntriggers: [ { on_arrival: orders } ]\n"
                                    "steps:\n  - crawl: orders\n  - job: clean\n"),
            "workflows/chained.yaml": ("workflow: chained\n"
                                       "triggers: [ { after: load, on: success } ]\n"
                                       "steps: [ { pass: done } ]\n"),
            "workflows/slow.yaml": "workflow: slow\nsteps: [ { wait: 60s } ]\n",
            "workflows/broken.yaml": ("workflow: broken\nparameters: { day: today, "
                                      "token: \"${env:HOOK_SECRET}\" }\nsteps:\n"
                                      "  - fail: \"no orders for ${params.day}\"\n"
                                      "    error: input\n"
                                      "on_failure: [ { notify: team } ]\n"),
        }
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        env = dict(os.environ, HOOK_SECRET=SECRET)
        log = open(os.path.join(root, "serve.log"), "w")
        server = subprocess.Popen([sluice, "-C", root, "serve", "--listen", "127.0.0.1:0",
                                   "--grace", "5s"], stdout=subprocess.PIPE, stderr=log,
                                  text=True, env=env)
        procs.append(server)
        port = None
        lines = []
        while port is None:
            line = server.stdout.readline()
            check(line, "sluice serve exited before listening")
            lines.append(line)
            event = json.loads(line)
            port = event.get("port")
        api = Api(port)
        status, health = api.call("GET", "/api/health")
        check(status == 200 and health["status"] == "ok", f"health: {status} {health}")

        def cli(*args):
            out = subprocess.run([sluice, "-C", root, *args], capture_output=True, text=True,
                                 timeout=30, env=env)
            return out

        # Arrival: a file landed with `sluice ingest` starts `load`, and `chained` after it.
        src = os.path.join(root, "in.csv")
        with open(src, "w") as f:
            f.write("id,amount\n1,10\n2,20\n")
        check(cli("ingest", "orders", src).returncode == 0, "ingest failed")
        load = until("load run", lambda: [r for r in api.call("GET", "/api/runs?name=load")[1]
                                          if r["status"] == "succeeded"])[0]
        check(load["trigger"] == "arrival orders", f"trigger: {load['trigger']}")
        check(load["params"]["files"] == ["landing/orders/in.csv"], f"files: {load['params']}")
        until("chained run", lambda: [r for r in api.call("GET", "/api/runs?name=chained")[1]
                                      if r["status"] == "succeeded"])
        status, detail = api.call("GET", f"/api/runs/{load['id']}")
        steps = {s["path"]: s for s in detail["steps"]}
        check(set(steps) == {"orders", "clean"}, f"steps: {list(steps)}")
        check(steps["clean"]["output"]["rows_out"] == 2, f"clean: {steps['clean']}")
        check(len(steps["clean"]["attempts"]) == 1 and
              steps["clean"]["attempts"][0]["child_run_id"], "attempts with the child run")
        rows = json.loads(cli("query", "SELECT count(*) AS n FROM silver.orders", "--format",
                              "json").stdout)
        check(rows == [{"n": 2}], f"silver rows: {rows}")

        # Logs, as a list and followed (the run has ended: follow returns at once).
        status, logs = api.call("GET", f"/api/runs/{load['id']}/logs")
        check(any("job clean succeeded" in l["message"] for l in logs), "log lines")
        status, text = api.call("GET", f"/api/runs/{load['id']}/logs?follow=1")
        check(status == 200 and len(text.strip().splitlines()) == len(logs), "followed logs")
        check("job clean succeeded" in cli("logs", str(load["id"])).stdout, "sluice logs")

        # A failing workflow alerts the webhook (the first delivery fails and is retried).
        status, run = api.call("POST", "/api/workflows/broken/runs",
                               {"params": {"day": "2026-11-22"}})
        check(status == 201 and run["trigger"] == "api", f"trigger: {status} {run}")
        until("broken fails", lambda: api.call("GET", f"/api/runs/{run['id']}")[1]["status"]
              == "failed")
        posts = until("the alert", lambda: [r for r in records(hook_file) if r["status"] == 200])
        check([r["status"] for r in records(hook_file)] == [500, 200],
              f"the first delivery failed and was retried: {records(hook_file)}")
        alert = posts[0]
        body = json.loads(alert["body"])
        check(body["type"] == "run_failed" and body["run_id"] == run["id"], f"alert: {body}")
        check("no orders for 2026-11-22" in body["error"], f"alert error: {body['error']}")
        check(body["logs"] == f"sluice logs {run['id']}", "alert names the log command")
        expected = "sha256=" + hmac.new(SECRET.encode(), alert["body"].encode(),
                                        hashlib.sha256).hexdigest()
        check(alert["headers"].get("x-sluice-signature") == expected, "HMAC signature")
        check(SECRET not in open(hook_file).read(), "the secret never leaves")
        status, err = api.call("POST", "/api/workflows/nope/runs", {})
        check(status == 404 and "no workflow 'nope'" in err["error"], f"unknown: {err}")

        # Retry from the failed step: the run is queued again and its step gets attempt 2.
        status, _ = api.call("POST", f"/api/runs/{run['id']}/retry")
        check(status == 202, f"retry: {status}")
        until("retried run fails again", lambda: len(
            {s["path"]: s for s in api.call("GET", f"/api/runs/{run['id']}")[1]["steps"]}
            ["fail"]["attempts"]) == 2 and
            api.call("GET", f"/api/runs/{run['id']}")[1]["status"] == "failed")

        # latest: the failed step runs on the server's current definitions (as reloaded), the run
        # records them, and the retried step's times are its new attempt's, however long ago the
        # run started.
        status, err = api.call("POST", f"/api/runs/{run['id']}/retry?latest=true")
        check(status == 400 and err["code"] == "api.bad_parameter", f"latest in the query: {err}")
        status, err = api.call("POST", f"/api/runs/{run['id']}/retry", {"latest": "yes"})
        check(status == 400 and err["code"] == "api.bad_body", f"latest not a boolean: {err}")
        with open(os.path.join(root, "workflows", "broken.yaml"), "w") as f:
            f.write(files["workflows/broken.yaml"].replace(
                '  - fail: "no orders for ${params.day}"\n    error: input\n', "  - pass: fail\n"))
        server.send_signal(signal.SIGHUP)
        line = until("reloaded", lambda: server.stdout.readline())
        while "reloaded the project" not in line:
            line = server.stdout.readline()
            check(line, "no 'reloaded the project' line")
        before = api.call("GET", f"/api/runs/{run['id']}")[1]
        time.sleep(1.5)
        asked = time.time()
        status, retried = api.call("POST", f"/api/runs/{run['id']}/retry", {"latest": True})
        check(status == 202 and retried["definitions"] == "latest" and
              retried["snapshot"] != before["snapshot"], f"retry latest: {status} {retried}")
        until("retried on the latest definitions", lambda: api.call(
            "GET", f"/api/runs/{run['id']}")[1]["status"] == "succeeded")
        detail = api.call("GET", f"/api/runs/{run['id']}")[1]
        step = {s["path"]: s for s in detail["steps"]}["fail"]
        check(step["kind"] == "pass" and len(step["attempts"]) == 3, f"retried step: {step}")

        def epoch(text):
            return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        check(epoch(step["started_at"]) >= asked - 0.05 and
              epoch(step["ended_at"]) - epoch(step["started_at"]) < 1.0 and
              epoch(detail["started_at"]) < asked - 1.5, f"the retried step's times: {step}")
        logs = api.call("GET", f"/api/runs/{run['id']}/logs")[1]
        check(any("with the project's current definitions" in l["message"] for l in logs),
              "the log says which definitions the retry ran")

        # Cancel from the CLI, against the same metastore, while the server runs it.
        status, slow = api.call("POST", "/api/workflows/slow/runs", {})
        until("slow running", lambda: api.call("GET", f"/api/runs/{slow['id']}")[1]["status"]
              == "running")
        out = cli("cancel", str(slow["id"]))
        check(out.returncode == 0 and "cancel requested" in out.stdout, f"cancel: {out.stdout}")
        until("slow cancelled", lambda: api.call("GET", f"/api/runs/{slow['id']}")[1]["status"]
              == "cancelled", timeout=5)

        # `sluice runs --format json` and GET /api/runs answer the same array, newest first.
        cli_runs = json.loads(cli("runs", "--format", "json", "--limit", "50").stdout)
        status, api_runs = api.call("GET", "/api/runs?limit=50")
        check(cli_runs == api_runs, "CLI and API list the same runs")
        ids = [r["id"] for r in api_runs]
        check(ids == sorted(ids, reverse=True), "newest first")
        for r in api_runs:
            for key in ("id", "kind", "name", "status", "trigger", "started_at", "ended_at"):
                check(key in r, f"run field {key}")
            check(r["started_at"] is None or r["started_at"].endswith("Z") and
                  len(r["started_at"]) == 24, f"RFC 3339 with ms: {r['started_at']}")
        status, wfs = api.call("GET", "/api/workflows")
        check(sorted(w["name"] for w in wfs) == ["broken", "chained", "load", "slow"],
              f"workflows: {wfs}")

        # Metrics.
        status, metrics = api.call("GET", "/metrics")
        for needle in ('sluice_runs_total{workflow="load",status="succeeded"} 1',
                       'sluice_runs_total{workflow="slow",status="cancelled"} 1',
                       'sluice_step_duration_seconds_bucket{kind="job",le="+Inf"}',
                       "sluice_queue_depth 0", "sluice_files_arrived_total 1",
                       "sluice_rows_processed_total 2", "sluice_trigger_latency_seconds_count"):
            check(needle in metrics, f"metrics lack {needle}")

        # OpenLineage: START and COMPLETE for the job, with its datasets.
        events = until("lineage events", lambda: [
            json.loads(r["body"]) for r in records(lineage_file)
            if json.loads(r["body"])["job"]["name"] == "job.clean"] or None)
        until("lineage COMPLETE", lambda: len([r for r in records(lineage_file)
                                               if "job.clean" in r["body"]]) >= 2)
        events = [json.loads(r["body"]) for r in records(lineage_file)
                  if "job.clean" in r["body"]]
        check([e["eventType"] for e in events[:2]] == ["START", "COMPLETE"], "lineage order")
        check(events[1]["inputs"][0]["name"] == "bronze.orders" and
              events[1]["outputs"][0]["name"] == "silver.orders", "lineage datasets")

        # SIGHUP reloads; a broken project is refused and the old definitions stay.
        with open(os.path.join(root, "workflows", "late.yaml"), "w") as f:
            f.write("workflow: late\nsteps: [ { pass: p } ]\n")
        server.send_signal(signal.SIGHUP)
        until("reload", lambda: "late" in [w["name"] for w in api.call("GET", "/api/workflows")[1]])
        with open(os.path.join(root, "workflows", "late.yaml"), "w") as f:
            f.write("workflow: late\nsteps: [ { jbo: p } ]\n")
        server.send_signal(signal.SIGHUP)
        line = until("refused reload", lambda: server.stdout.readline())
        while "reload refused" not in line:
            line = server.stdout.readline()
            check(line, "no 'reload refused' line")
        check("did you mean 'job'" in line, f"reload error: {line}")
        status, _ = api.call("POST", "/api/workflows/late/runs", {})
        check(status == 201, "the old definition still runs")

        # The secret parameter default never reaches an answer or the metastore file.
        everything = json.dumps([api.call("GET", "/api/workflows")[1],
                                 api.call("GET", "/api/runs?limit=1000")[1],
                                 api.call("GET", f"/api/runs/{run['id']}")[1]])
        check(SECRET not in everything, "a secret parameter appears in the API")
        for name in os.listdir(os.path.join(root, ".sluice")):
            with open(os.path.join(root, ".sluice", name), "rb") as f:
                check(SECRET.encode() not in f.read(), f"a secret is stored in .sluice/{name}")

        # SIGTERM: a clean stop.
        server.send_signal(signal.SIGTERM)
        check(server.wait(timeout=30) == 0, "exit status after SIGTERM")
        print(f"ok: arrival, chaining, API, CLI, alert with HMAC and retry, cancel, retry, "
              f"metrics, lineage, reload and stop on port {port}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
