#!/usr/bin/env python3
"""Alerts around `catch`, with real webhook receivers: a notify step in a catch handler sends
`step_caught` (never `run_failed` for a run that then succeeds), channels with `on: [caught]`
hear of every caught failure, and a later failure of the same run still reaches the channels
subscribed to failures, once. Bounded: 120 s.

Usage: catch_alerts.py SLUICE
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import check, receiver, write_project  # noqa: E402

FAIL_FIRST = ("  - fail: \"no orders today\"\n"
              "    error: input\n"
              "    catch:\n"
              "      - errors: [input]\n")


def bodies(record, run_id):
    """The events a receiver got about run `run_id`, as (type, step) pairs in arrival order."""
    if not os.path.exists(record):
        return []
    with open(record) as f:
        events = [json.loads(json.loads(line)["body"]) for line in f if line.strip()]
    return [(e["type"], e["step"]) for e in events if e["run_id"] == run_id]


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-catch-")
    procs = []
    try:
        caught, caught_port, caught_file = receiver(root, "caught")
        failed, failed_port, failed_file = receiver(root, "failed")
        procs += [caught, failed]
        files = {
            "sluice.yaml": (
                "project: alerts\n"
                "notifications:\n"
                f"  on_caught: {{ webhook: \"http://127.0.0.1:{caught_port}/\", on: [caught] }}\n"
                f"  on_failure: {{ webhook: \"http://127.0.0.1:{failed_port}/\", "
                "on: [failure] }\n"),
            # Fails, is caught, tells on_caught, then succeeds.
            "workflows/recovers.yaml": ("workflow: recovers\nsteps:\n" + FAIL_FIRST +
                                        "        steps: [ { notify: on_caught } ]\n"
                                        "  - pass: done\n"),
            # The same without a notify step: on_caught hears of it through `on: [caught]`.
            "workflows/quiet.yaml": ("workflow: quiet\nsteps:\n" + FAIL_FIRST +
                                     "        steps: [ { pass: shrug } ]\n"),
            # The handler tells on_failure of the caught failure; a later step then fails.
            "workflows/later.yaml": ("workflow: later\nsteps:\n" + FAIL_FIRST +
                                     "        steps: [ { notify: on_failure } ]\n"
                                     "  - fail: \"the lake is gone\"\n"
                                     "    name: load\n"
                                     "    error: io\n"),
            # on_failure tells the channel of the run's failure: not told twice.
            "workflows/handled.yaml": ("workflow: handled\nsteps:\n"
                                       "  - fail: \"no orders today\"\n    error: input\n"
                                       "on_failure: [ { notify: on_failure } ]\n"),
        }
        write_project(root, files)

        def run(workflow, want_exit):
            out = subprocess.run([sluice, "-C", root, "run", workflow, "--format", "json"],
                                 capture_output=True, text=True, timeout=60)
            check(out.returncode == want_exit,
                  f"run {workflow}: exit {out.returncode}\n{out.stdout}\n{out.stderr}")
            return json.loads(out.stdout)["id"]

        # Every delivery is done when `sluice run` returns (it waits for its notifications).
        run_id = run("recovers", 0)
        got = bodies(caught_file, run_id)
        check(got == [("step_caught", "fail")], f"recovers, on_caught got {got}")
        got = bodies(failed_file, run_id)
        check(got == [], f"recovers, on_failure got {got}")

        run_id = run("quiet", 0)
        got = bodies(caught_file, run_id)
        check(got == [("step_caught", "fail")], f"quiet, on_caught got {got}")
        check(bodies(failed_file, run_id) == [], "quiet: on_failure was told")

        run_id = run("later", 1)
        got = bodies(failed_file, run_id)
        check(got == [("step_caught", "fail"), ("run_failed", "load")],
              f"later, on_failure got {got}")
        got = bodies(caught_file, run_id)
        check(got == [("step_caught", "fail")], f"later, on_caught got {got}")

        run_id = run("handled", 1)
        got = bodies(failed_file, run_id)
        check(got == [("run_failed", "fail")], f"handled, on_failure got {got}")
        check(bodies(caught_file, run_id) == [], "handled: on_caught was told")
        print("ok")
        return 0
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
