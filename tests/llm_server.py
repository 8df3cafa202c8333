"""A scripted OpenAI-compatible chat endpoint for the LLM suggester's tests: a real HTTP
server on 127.0.0.1 (the OS picks the port) in a thread, implementing POST
/v1/chat/completions and answering each request as a test's ``responder`` says. No model."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted answer: ``content`` (the assistant's message), or an HTTP ``status`` other
    than 200 (with an OpenAI-style error body), after ``delay`` seconds."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0


def codes_reply(*codes: dict) -> Reply:
    """A well-formed reply with these ``{"code", "level", "evidence", "reason"}`` entries."""
    return Reply(json.dumps({"codes": list(codes)}, ensure_ascii=False))


_PASSAGE = re.compile(r"<passage>(.*?)</passage>", re.DOTALL)


def passage_of(body: dict) -> str:
    """The passage a request asks about (from its first user message)."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return _PASSAGE.search(user).group(1)


class ScriptedLLM:
    """``with ScriptedLLM(responder) as llm:`` serves ``llm.url`` (``http://127.0.0.1:PORT/v1``);
    ``responder(body, n)`` gets each request's JSON body and its number (0, 1, ...) and returns
    a :class:`Reply`. ``llm.requests`` lists the bodies received, in order, ``llm.times`` when
    each came (``time.monotonic``), ``llm.headers`` their headers (lower-cased names), and
    ``llm.max_in_flight`` is the most answered at once."""

    def __init__(self, responder):
        self.responder = responder
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.times: list[float] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):  # quiet
                pass

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer._lock:
                    n = len(outer.requests)
                    outer.requests.append(body)
                    outer.paths.append(self.path)
                    outer.times.append(time.monotonic())
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    self._answer(body, n)
                finally:
                    with outer._lock:
                        outer.in_flight -= 1

            def _answer(self, body: dict, n: int) -> None:
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = outer.responder(body, n)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": f"scripted HTTP {reply.status}"}})
                    return
                self._send(200, {
                    "id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0, "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply.content}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a client that hung up: not news
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
