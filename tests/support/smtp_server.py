#!/usr/bin/env python3
"""An SMTP server for tests (aiosmtpd): records every message as one JSON line.

    smtp_server.py RECORD_FILE [--fail-first N] [--starttls CERT KEY] [--auth USER:PASS]
                   [--lifetime SECONDS]

Listens on 127.0.0.1 on a free port and prints the port as the first line of stdout. Each
accepted message is appended to RECORD_FILE as {"mail_from", "rcpt_tos", "content", "tls",
"login"}. The first N DATA commands are answered "451 try again". With --starttls the server
offers STARTTLS with that certificate and refuses mail sent without it; with --auth it requires
that login (after STARTTLS). Exits on SIGTERM/SIGINT, or by itself after --lifetime seconds
(default 60) so that it can never hold a test run up.
"""
import argparse
import json
import logging
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("record")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", metavar="USER:PASS")
    parser.add_argument("--lifetime", type=float, default=60.0)
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)

    lock = threading.Lock()
    state = {"seen": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with lock:
                state["seen"] += 1
                if state["seen"] <= args.fail_first:
                    return "451 4.3.0 try again"
                login = None
                if session.auth_data is not None:
                    login = session.auth_data.login.decode("utf-8", "replace")
                record = {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "content": envelope.content.decode("utf-8", "replace"),
                    "tls": bool(session.ssl),
                    "login": login,
                }
                with open(args.record, "a", encoding="utf-8") as out:
                    out.write(json.dumps(record) + "\n")
            return "250 OK"

    options = {}
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.starttls[0], args.starttls[1])
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, auth_data=auth_data if ok else None)

        options.update(authenticator=authenticator, auth_required=True,
                       auth_require_tls=bool(args.starttls))

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(port, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(args.lifetime)
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
