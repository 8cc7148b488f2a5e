"""Shared by the whole-server tests in tests/serve/: failing with a message, and waiting for a
condition within both a per-wait timeout and the test's overall deadline."""
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
