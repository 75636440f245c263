#!/usr/bin/env python3
"""A hostile OCI registry for netkit's tests.

  hostile_registry.py PORT [MODE [URL]]

MODE:
  endless        (default) /v2/ like a registry, then an endless manifest
                 (64 KiB chunks until the client hangs up)
  realm URL      /v2/ answers 401 with a Bearer challenge whose realm is URL;
                 a realm on this registry itself (/token) hands out token "t",
                 and the manifest then needs it (and is endless, as above)
  redirect URL   a valid manifest; its blobs answer 307 to URL
  drip           the manifest is sent one byte a second
"""
import hashlib
import http.server
import json
import sys
import time

PORT = int(sys.argv[1])
MODE = sys.argv[2] if len(sys.argv) > 2 else "endless"
URL = sys.argv[3] if len(sys.argv) > 3 else ""

LAYER = b"\0asm\x0d\x00\x01\x00"
CONFIG = b"{}"


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.wasm.config.v0+json",
               "digest": digest(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/wasm",
                "digest": digest(LAYER), "size": len(LAYER)}],
}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def endless(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"{" + b" " * 65534 + b"\n"
        try:
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if MODE == "realm":
            if path.rstrip("/") == "/v2":
                return self.answer(401, b"{}", [("WWW-Authenticate",
                                                 'Bearer realm="%s",service="hostile"' % URL)])
            if path == "/token":
                return self.answer(200, b'{"token": "t"}')
            if self.headers.get("Authorization") != "Bearer t":
                return self.answer(401, b"{}")
            return self.endless()
        if path.rstrip("/") == "/v2":
            return self.answer(200, b"{}")
        if MODE == "redirect":
            if "/manifests/" in path:
                return self.answer(200, MANIFEST, [
                    ("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
            return self.answer(307, b"", [("Location", URL)])
        if MODE == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(len(MANIFEST)))
            self.end_headers()
            try:
                for b in MANIFEST:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        return self.endless()


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("ready", flush=True)
server.serve_forever()
