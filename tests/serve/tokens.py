#!/usr/bin/env python3
"""API tokens: with `serve: { auth: required }` every call but /api/health needs
`Authorization: Bearer TOKEN`; `sluice token create` prints the secret once and stores only its
hash, `token list` shows name, creation and last use (never the secret), `token revoke` ends it
at once; the secret reaches no log, error or file; the CLI needs none. Bounded: 60 s.

Usage: tokens.py SLUICE
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "support"))
from servetest import Deadline, Server, check, write_project  # noqa: E402

DEADLINE = Deadline(60)


def main():
    sluice = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sluice-tokens-")
    server = None

    def cli(*args):
        return subprocess.run([sluice, "-C", root, *args], capture_output=True, text=True,
                              timeout=30)
    try:
        write_project(root, {
            "sluice.yaml": "project: tokens\nserve: { auth: required }\n",
            "workflows/wf.yaml": "workflow: wf\nsteps: [ { pass: done } ]\n",
        })
        server = Server(sluice, root)
        status, health = server.call("GET", "/api/health")
        check(status == 200, f"health needs no token: {status} {health}")
        status, headers, err = server.request("GET", "/api/runs")
        check(status == 401 and err.get("code") == "api.unauthorized" and
              "sluice token create" in err["error"] and
              headers.get("WWW-Authenticate", "").startswith("Bearer"),
              f"no token: {status} {headers} {err}")
        status, err = server.call("POST", "/api/workflows/wf/runs", {})
        check(status == 401 and err.get("code") == "api.unauthorized", f"trigger: {status} {err}")

        out = cli("token", "create", "ci")
        check(out.returncode == 0, f"token create: {out.returncode} {out.stderr}")
        secret = out.stdout.strip()
        check(len(secret) >= 40 and "\n" not in secret and "not shown again" in out.stderr,
              f"token create prints the secret once: {out.stdout!r} {out.stderr!r}")
        out = cli("token", "create", "ci")
        check(out.returncode == 2 and "error[token.exists]: token 'ci' already exists" in
              out.stderr, f"a second ci: {out.returncode} {out.stderr}")
        out = cli("token", "create", "bad name")
        check(out.returncode == 2 and "error[token.name]" in out.stderr, f"bad name: {out.stderr}")

        auth = {"Authorization": "Bearer " + secret}
        status, run = server.call("POST", "/api/workflows/wf/runs", {}, auth)
        check(status == 201, f"trigger with the token: {status} {run}")
        status, _ = server.call("GET", "/api/runs", headers=auth)
        check(status == 200, f"list with the token: {status}")
        wrong = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
        for header in ("Bearer " + wrong, "Basic " + secret, secret, "Bearer"):
            status, err = server.call("GET", "/api/runs", headers={"Authorization": header})
            check(status == 401 and err.get("code") == "api.unauthorized" and
                  secret not in json.dumps(err) and wrong not in json.dumps(err),
                  f"{header[:12]}...: {status} {err}")

        # The CLI on this machine reads the metastore: no token.
        out = cli("runs", "--format", "json")
        check(out.returncode == 0 and json.loads(out.stdout)[0]["id"] == run["id"], "sluice runs")

        out = cli("token", "list", "--format", "json")
        listed = json.loads(out.stdout)
        check([t["name"] for t in listed] == ["ci"] and listed[0]["created_at"] and
              listed[0]["last_used_at"], f"token list: {listed}")
        out = cli("token", "list")
        check("ci" in out.stdout and secret not in out.stdout, f"token list: {out.stdout}")

        out = cli("token", "revoke", "ci")
        check(out.returncode == 0 and "revoked" in out.stdout, f"revoke: {out.stdout}")
        status, err = server.call("GET", "/api/runs", headers=auth)
        check(status == 401, f"a revoked token: {status} {err}")
        out = cli("token", "revoke", "ci")
        check(out.returncode == 2 and "error[token.not_found]" in out.stderr,
              f"revoke twice: {out.stderr}")
        check(server.stop() == 0, "exit status after SIGTERM")

        # The secret is nowhere: not in the logs, not in the metastore.
        everything = server.stderr() + "".join(server.lines)
        check(secret not in everything and secret[:20] not in everything, "secret in a log")
        for name in os.listdir(os.path.join(root, ".sluice")):
            with open(os.path.join(root, ".sluice", name), "rb") as f:
                check(secret.encode() not in f.read(), f"the secret is stored in .sluice/{name}")
        print("ok: tokens required, created, listed, used and revoked; the secret stays secret")
    finally:
        if server:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
