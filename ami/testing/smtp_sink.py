"""A local SMTP sink for tests and benchmarks: accepts every message and records it, nothing leaves.

    python -m ami.testing.smtp_sink --port 2525 --out var/sink.jsonl [--fail-first N] [--refuse ADDRESS]

Each accepted message is one JSON line: {"to": [...], "message_id": "...", "subject": "..."}.
`--fail-first N` answers the first N messages with a temporary 451 error (a server in trouble);
`--refuse ADDRESS` answers RCPT TO for that address with a permanent 550 (a bouncing recipient).
"""

import argparse
import json
import socketserver
import threading
from email import message_from_bytes, policy
from email.header import decode_header, make_header


class SinkHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink ESMTP")
        recipients = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if address in self.server.refused:
                    self.reply("550 No such user")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self._receive(recipients)
            elif verb == "RSET":
                recipients = []
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")

    def _receive(self, recipients):
        lines = []
        while True:
            line = self.rfile.readline()
            if line in (b".\r\n", b".\n", b""):
                break
            lines.append(line[1:] if line.startswith(b"..") else line)
        with self.server.lock:
            if self.server.failures_left > 0:
                self.server.failures_left -= 1
                self.reply("451 Try again later")
                return
            message = message_from_bytes(b"".join(lines), policy=policy.compat32)
            record = {
                "to": recipients,
                "message_id": message.get("Message-ID", ""),
                "subject": str(make_header(decode_header(message.get("Subject", "")))),
            }
            with open(self.server.out, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.reply("250 OK queued")


class SinkServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port, out, fail_first=0, refused=()):
        super().__init__(("127.0.0.1", port), SinkHandler)
        self.out, self.failures_left, self.refused, self.lock = out, fail_first, set(refused), threading.Lock()


def read(path):
    """The messages recorded in `path` (a list of dicts)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--refuse", action="append", default=[])
    options = parser.parse_args()
    with SinkServer(options.port, options.out, options.fail_first, options.refuse) as server:
        print(f"sink listening on 127.0.0.1:{options.port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
