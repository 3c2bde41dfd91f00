"""An OpenAI-compatible upstream on 127.0.0.1 for the gateway's end-to-end test.

Chat completions answer "heard: " + the last message as it arrived (whole, or as
server-sent events word by word); embeddings answer one short vector per input. Every
request body is appended to the file named by the first argument, with the bearer key
it came with as `_auth`, so the test can see what the gateway forwarded. Prints the port it listens on.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(dict(body, _auth=self.headers.get("authorization"))) + "\n")
        if self.path.endswith("/embeddings"):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, float(len(t))]} for i, t in enumerate(inputs)]
            return self.send_json({"object": "list", "data": data, "model": body["model"],
                                   "usage": {"prompt_tokens": 3, "total_tokens": 3}})
        said = body["messages"][-1]["content"]
        reply = "heard: " + said
        if not body.get("stream"):
            return self.send_json({"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                                   "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                                "finish_reason": "stop"}],
                                   "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        words = reply.split(" ")
        events = [{"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                   "choices": [{"index": 0, "delta": {"content": w + (" " if i < len(words) - 1 else "")},
                                "finish_reason": None}]} for i, w in enumerate(words)]
        events.append({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if body.get("stream_options", {}).get("include_usage"):
            events.append({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                           "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})
        for e in events:
            self.chunk(("data: " + json.dumps(e) + "\n\n").encode())
        self.chunk(b"data: [DONE]\n\n")
        self.chunk(b"")

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_json(self, v):
        data = json.dumps(v).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
