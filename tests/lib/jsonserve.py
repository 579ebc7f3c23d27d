#!/usr/bin/env python3
"""A tiny HTTP server on 127.0.0.1 for tests: GET /NAME answers the bodies in
DIR/NAME.0, DIR/NAME.1, ... one per request, the last one repeated (a missing
NAME answers 404).  Every request is appended to DIR/hits.  The bound port is
written to DIR/port once listening.

Usage: jsonserve.py DIR FIRST_PORT LAST_PORT   (the first free port is taken)
"""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        d = self.server.dir
        name = self.path.strip("/").split("?")[0].replace("/", "_")
        k = self.server.hits.get(name, 0)
        self.server.hits[name] = k + 1
        with open(os.path.join(d, "hits"), "a") as f:
            f.write(name + "\n")
        files = sorted((x for x in os.listdir(d) if x.startswith(name + ".")),
                       key=lambda x: int(x.rsplit(".", 1)[1]))
        if not files:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(os.path.join(d, files[min(k, len(files) - 1)]), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    d, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for port in range(first, last + 1):
        try:
            srv = http.server.HTTPServer(("127.0.0.1", port), Handler)
            break
        except OSError:
            continue
    else:
        sys.exit("jsonserve: no free port in %d-%d" % (first, last))
    srv.dir = d
    srv.hits = {}
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    srv.serve_forever()


main()
