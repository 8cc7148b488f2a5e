"""Shared by the whole-server tests in tests/serve/: failing with a message, waiting for a
condition within both a per-wait timeout and the test's overall deadline, writing a project and
running `sluice serve` on a free loopback port."""
import http.client
import json
import os
import select
import socket
import signal
import subprocess
import sys
import time


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def until(self, what, fn, timeout=20):
        """Polls fn every 50 ms until it returns something true; fails after `timeout` seconds
        or at the overall deadline, whichever comes first."""
        end = min(time.monotonic() + timeout, self.end)
        while time.monotonic() < end:
            value = fn()
            if value:
                return value
            time.sleep(0.05)
        check(False, "timed out waiting for " + what)


def check(cond, message):
    if not cond:
        print("FAIL: " + message)
        sys.exit(1)


def closed_by_server(s):
    """Whether the server closed (or reset) socket `s`, without waiting."""
    try:
        ready, _, _ = select.select([s], [], [], 0)
        return bool(ready) and s.recv(4096, socket.MSG_PEEK) == b""
    except OSError:
        return True


def receiver(root, name, fail_first=0):
    """A webhook_server.py recording into root/NAME.jsonl: (process, port, record file)."""
    record = os.path.join(root, name + ".jsonl")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webhook_server.py")
    proc = subprocess.Popen([sys.executable, script, record, "--fail-first", str(fail_first),
                             "--lifetime", "120"], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline()), record


def write_project(root, files):
    """Writes {relative path: text} under root."""
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


class Server:
    """`sluice -C root serve --listen 127.0.0.1:0 ARGS`, its stderr in root/serve.log."""

    def __init__(self, sluice, root, *args, env=None):
        self.log_path = os.path.join(root, "serve.log")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([sluice, "-C", root, "serve", "--listen", "127.0.0.1:0",
                                      *args], stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, env=env)
        self.port = None
        self.lines = []
        while self.port is None:
            line = self.proc.stdout.readline()
            check(line, "sluice serve exited before listening: " + self.stderr())
            self.lines.append(line)
            self.port = json.loads(line).get("port")

    def stderr(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers, answer): the answer parsed when it is JSON, else text. A dict or
        list body is sent as JSON with Content-Type: application/json unless headers say
        otherwise; bytes or str are sent as they are."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        kind = r.getheader("Content-Type", "")
        answer = json.loads(data) if "json" in kind and "ndjson" not in kind else data.decode()
        return r.status, dict(r.getheaders()), answer

    def call(self, method, path, body=None, headers=None):
        status, _, answer = self.request(method, path, body, headers)
        return status, answer

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; the exit status. The rest of stdout joins self.lines."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
            self.lines += self.proc.stdout.readlines()
            return code
        finally:
            self.log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
