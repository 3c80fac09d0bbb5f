#!/usr/bin/env python3
"""A small gateway that serves each connection with a thread (http.server.ThreadingHTTPServer,
HTTP/1.1 keep-alive), standing in for the kind of provider front many small deployments have.
It answers from segsim: the first answer for a path is fetched there and kept, later ones are
served from memory, so what is measured is the thread-per-connection server, not segsim.

    threaded_server.py --upstream http://127.0.0.1:PORT --port-file FILE
"""
import argparse
import http.server
import os
import threading
import urllib.error
import urllib.request

CACHE = {}
LOCK = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, each answer would wait for the
    # client's delayed ACK (40 ms), and every contender would measure that instead.
    disable_nagle_algorithm = True
    upstream = ""

    def log_message(self, *args):
        pass

    def do_GET(self):
        with LOCK:
            hit = CACHE.get(self.path)
        if hit is None:
            req = urllib.request.Request(self.upstream + self.path, headers={
                k: v for k, v in self.headers.items() if k.lower() not in HOP})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    hit = (r.status, [(k, v) for k, v in r.getheaders()
                                      if k.lower() not in HOP], r.read())
            except urllib.error.HTTPError as e:
                hit = (e.code, [("Content-Type", "application/json")], e.read())
            if hit[0] == 200:
                with LOCK:
                    CACHE[self.path] = hit
        status, headers, body = hit
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    Handler.upstream = a.upstream
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 1024
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
