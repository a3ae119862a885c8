#!/usr/bin/env python3
"""A streaming stand-in for Ollama's `POST /api/chat`, for scripts/bench-load.

garden-eden's own `ollama-stand-in` answers in a single NDJSON line, which cannot show whether
deltas are lost on the way to the browser. This one streams an answer of TOKENS pieces, one
NDJSON line each, DELAY seconds apart. The answer is a function of the last user message
(`<label>` = its first word), so every chat's answer is known and distinct:
"<label>:0 <label>:1 … <label>:{TOKENS-1} ".
Usage: stream_ollama.py PORT [TOKENS] [DELAY]
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer_pieces(prompt, tokens):
    label = (prompt.split() or ["x"])[0]
    return [f"{label}:{i} " for i in range(tokens)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tokens = 50
    delay = 0.02

    def log_message(self, *args):
        pass

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/api/version":
            self.send_json(200, {"version": "0.6.0"})
        elif self.path == "/api/tags":
            self.send_json(200, {"models": [{"name": "bench-stream:latest", "model": "bench-stream:latest"}]})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if self.path != "/api/chat":
            self.send_json(404, {"error": "not found"})
            return
        model = body.get("model", "")
        messages = body.get("messages") or [{}]
        prompt = messages[-1].get("content", "")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(value):
            data = (json.dumps(value) + "\n").encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        for piece in answer_pieces(prompt, self.tokens):
            time.sleep(self.delay)
            chunk({"model": model, "message": {"role": "assistant", "content": piece}, "done": False})
        chunk({"model": model, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main():
    port = int(sys.argv[1])
    if len(sys.argv) > 2:
        Handler.tokens = int(sys.argv[2])
    if len(sys.argv) > 3:
        Handler.delay = float(sys.argv[3])
    # The default listen backlog (5) drops SYNs when 20 chats connect at once: each dropped one
    # then waits a second for the retry, which would be counted as the server's latency.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
