"""Real HTTP receivers on 127.0.0.1, each in a thread of its own (`http.server`), that record
every request and answer as a test tells them to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived
    verified: bool | None = None

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"ok": true}'
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


# (the request, how many came before it) → the answer.
Behaviour = Callable[[Received, int], Answer]


def accept(request: Received, n: int) -> Answer:
    return Answer()


class Receiver:
    """A webhook receiver; with `secrets` it verifies each request with the `standardwebhooks`
    package (an implementation independent of ours) and answers 401 when none verifies."""

    def __init__(self, behaviour: Behaviour = accept) -> None:
        self.behaviour = behaviour
        self.secrets: list[str] = []
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                request = Received(
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    at=time.time(),
                )
                if receiver.secrets:
                    request.verified = receiver.verify(request)
                with receiver.lock:
                    n = len(receiver.received)
                    receiver.received.append(request)
                answer = receiver.behaviour(request, n)
                if request.verified is False:
                    answer = Answer(status=401, body=b"bad signature")
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the dispatcher gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def verify(self, request: Received) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(request.body, request.headers)
            except WebhookVerificationError:
                continue
            return True
        return False

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def ids(self) -> list[str]:
        with self.lock:
            return [r.msg_id for r in self.received]

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [r.body for r in self.received]


@contextmanager
def receiving(behaviour: Behaviour = accept) -> Iterator[Receiver]:
    receiver = Receiver(behaviour)
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def main() -> None:
    """`python -m tests.webhooks._receiver PORT FILE`: accept every delivery and append a line
    `<receipt time> <body>` to FILE (a receiver in a process of its own, for measurements)."""
    import sys

    port, path = int(sys.argv[1]), sys.argv[2]
    lock = threading.Lock()
    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            at = time.time()
            with lock:
                out.write(f"{at} {body.decode()}\n")
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
