#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Alert receivers for tests/integration/test_alerts.sh (Python 3 stdlib only).

serve: a webhook receiver (HTTP) and an SMTP sink on loopback. Every POST
is appended to OUT/webhook.jsonl as {"path", "headers", "body_b64"} (the
exact body bytes, so the test can check the HMAC over them); every mail is
appended to OUT/mail.jsonl as {"from", "rcpt", "data"}. GET /ready answers
200 once both listen. Nothing is interpreted: the test judges.

  alert_sinks.py serve --webhook-port N --smtp-port M --out DIR

verify: checks the X-Stepup-Signature of every recorded webhook call
against a secret (first line of a file) and prints "valid invalid".

  alert_sinks.py verify --secret-file F --log DIR/webhook.jsonl

The SMTP sink speaks just enough RFC 5321 for libcurl: EHLO/HELO, MAIL,
RCPT, DATA (with dot-unstuffing), RSET, NOOP, QUIT. It offers no STARTTLS
and no AUTH.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import signal
import socketserver
import sys
import threading

LOCK = threading.Lock()


def append(path, obj):
    """Append one JSON line and flush, so the test sees it at once."""
    with LOCK:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")
            f.flush()


class Hook(http.server.BaseHTTPRequestHandler):
    """Records POSTs; answers GET /ready."""

    out = None

    def do_POST(self):  # noqa: N802 (stdlib naming)
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        append(os.path.join(self.out, "webhook.jsonl"), {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_b64": base64.b64encode(body).decode("ascii"),
        })
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):  # noqa: N802
        self.send_response(200 if self.path == "/ready" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


class Smtp(socketserver.StreamRequestHandler):
    """One SMTP session."""

    out = None

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode("ascii"))
        self.wfile.flush()

    def handle(self):
        self.reply("220 sink.test ESMTP test sink")
        sender, rcpt = None, []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n")
                self.wfile.flush()
            elif verb == "HELO":
                self.reply("250 sink.test")
            elif verb == "MAIL":
                sender, rcpt = line[10:].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpt.append(line[8:].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                if sender is None or not rcpt:
                    self.reply("503 need MAIL and RCPT")
                    continue
                self.reply("354 go ahead")
                lines = []
                while True:
                    d = self.rfile.readline(65536)
                    if not d:
                        return
                    if d in (b".\r\n", b".\n"):
                        break
                    if d.startswith(b".."):
                        d = d[1:]
                    lines.append(d)
                append(os.path.join(self.out, "mail.jsonl"), {
                    "from": sender, "rcpt": rcpt,
                    "data": b"".join(lines).decode("utf-8", "replace"),
                })
                sender, rcpt = None, []
                self.reply("250 queued")
            elif verb == "RSET":
                sender, rcpt = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class ThreadingTCP(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(args):
    os.makedirs(args.out, exist_ok=True)
    Hook.out = args.out
    Smtp.out = args.out
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", args.webhook_port), Hook)
    hook.daemon_threads = True
    smtp = ThreadingTCP(("127.0.0.1", args.smtp_port), Smtp)
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    hook.serve_forever()


def verify(args):
    with open(args.secret_file, "rb") as f:
        secret = f.readline().strip()
    good = bad = 0
    with open(args.log, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            body = base64.b64decode(rec["body_b64"])
            want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            got = rec["headers"].get("x-stepup-signature", "")
            if hmac.compare_digest(want, got):
                good += 1
            else:
                bad += 1
    print(good, bad)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--webhook-port", type=int, required=True)
    s.add_argument("--smtp-port", type=int, required=True)
    s.add_argument("--out", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--secret-file", required=True)
    v.add_argument("--log", required=True)
    args = ap.parse_args()
    if args.cmd == "serve":
        serve(args)
    else:
        verify(args)


if __name__ == "__main__":
    main()
