#!/usr/bin/env python3
"""wkdserver.py: an HTTPS server for tests/wkd.bats, on 127.0.0.1.

    wkdserver.py serve ROOT CERT KEY PORT   files from ROOT/HOST/PATH
    wkdserver.py hang PORT                  accept, never answer

serve answers GET by the Host header: ROOT/HOST/PATH (the query is
ignored, except HKP's: /pks/lookup?search=X is ROOT/HOST/pks/lookup/X).
Next to a file, FILE.status holds another status code, FILE.redirect a
Location, and FILE.big makes a 10 MB answer without a length (the bytes
actually sent go to ROOT/big.sent).  Every request is appended to
ROOT/requests.log as "HOST PATH?QUERY".  Once listening, the server writes
its pid to ROOT/ready (or, for hang, to the file $READY).  Port 443 may be
held by another test for a moment: binding is retried for a minute.
"""
import http.server
import os
import socket
import ssl
import sys
import time
import urllib.parse


def bind(port):
    for _ in range(600):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen(16)
            return s
        except OSError:
            s.close()
            time.sleep(0.1)
    sys.exit("wkdserver: 127.0.0.1:%d stays busy" % port)


def serve(root, cert, key, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):
            host = self.headers.get("Host", "").split(":")[0].lower()
            u = urllib.parse.urlsplit(self.path)
            with open(os.path.join(root, "requests.log"), "a") as log:
                log.write("%s %s\n" % (host, self.path))
            path = urllib.parse.unquote(u.path)
            if path == "/pks/lookup":
                q = urllib.parse.parse_qs(u.query)
                path += "/" + q.get("search", [""])[0].lower()
            f = os.path.normpath(os.path.join(root, host, path.lstrip("/")))
            if not f.startswith(root + os.sep):
                return self.send_error(403)
            if os.path.isfile(f + ".status"):
                with open(f + ".status") as s:
                    return self.send_error(int(s.read()))
            if os.path.isfile(f + ".redirect"):
                with open(f + ".redirect") as s:
                    self.send_response(302)
                    self.send_header("Location", s.read().strip())
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            if os.path.isfile(f + ".big"):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                sent = 0
                try:
                    while sent < 10 << 20:
                        self.wfile.write(b"\x99" * 65536)
                        sent += 65536
                except OSError:
                    pass
                with open(os.path.join(root, "big.sent"), "w") as s:
                    s.write("%d\n" % sent)
                return
            if not os.path.isfile(f):
                return self.send_error(404)
            with open(f, "rb") as s:
                data = s.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(http.server.ThreadingHTTPServer):
        def server_bind(self):
            pass

        def server_activate(self):
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = Server(("127.0.0.1", port), Handler, bind_and_activate=False)
    srv.socket.close()
    srv.socket = ctx.wrap_socket(bind(port), server_side=True)
    with open(os.path.join(root, "ready"), "w") as r:
        r.write("%d\n" % os.getpid())
    srv.serve_forever()


def hang(port):
    s = bind(port)
    with open(os.environ["READY"], "w") as r:
        r.write("%d\n" % os.getpid())
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)


def main():
    if sys.argv[1] == "serve":
        serve(os.path.abspath(sys.argv[2]), sys.argv[3], sys.argv[4],
              int(sys.argv[5]))
    elif sys.argv[1] == "hang":
        hang(int(sys.argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
