"""A tiny static HTTP server for the demo site, bound to 127.0.0.1 on a free port.

It serves a folder as a news site would: ``text/html; charset=utf-8`` for pages unless
``_headers.json`` in the folder gives another Content-Type for a path (the windows-1252 page is
served as bare ``text/html``), XML types for sitemaps and feeds, ``text/plain`` for robots.txt and
404 for anything missing. ``__BASE_URL__`` in a file is replaced by the address being served, so
sitemaps and feeds carry absolute URLs. Every request is logged (method, path, status), in memory
and optionally appended to a file, so tests can check what was fetched.
"""

from __future__ import annotations

import json
import logging
import posixpath
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

PLACEHOLDER = b"__BASE_URL__"
DEFAULT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


#: Bodies kept in memory by the server, at most.
CACHE_BYTES = 256 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    # the stdlib's listen backlog is 5: a crawl opening 8 connections at once has SYNs dropped and
    # waits for their retransmission
    request_queue_size = 128


class DemoServer:
    """Serve ``root`` on 127.0.0.1 in a daemon thread: ``start()``, ``base_url``, ``stop()``."""

    def __init__(self, root: str | Path, port: int = 0, access_log: str | Path | None = None) -> None:
        self.root = Path(root).resolve()
        if not (self.root / "robots.txt").is_file():
            raise FileNotFoundError(f"{self.root}: not a demo site folder (no robots.txt)")
        headers_file = self.root / "_headers.json"
        self.types: dict[str, str] = json.loads(headers_file.read_text("utf-8")) if headers_file.exists() else {}
        self.access_log = Path(access_log) if access_log else None
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._targets: dict[str, tuple[Path, str]] = {}
        self._bodies: dict[Path, tuple[tuple[int, int], bytes]] = {}
        self._cached_bytes = 0
        self._httpd = _Server(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DemoServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="demo-site", daemon=True)
        self._thread.start()
        logger.info("demo site %s served at %s", self.root, self.base_url)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -------------------------------------------------------------------------------
    def resolve(self, url_path: str) -> tuple[Path | None, str]:
        """The file for a URL path (None when missing or outside the root) and its Content-Type."""
        path = posixpath.normpath(unquote(urlsplit(url_path).path))
        if path in ("/", "."):
            path = "/index.html"
        if path.startswith("/_") or "/." in path:
            return None, ""
        target = (self.root / path.lstrip("/")).resolve()
        if self.root not in target.parents or not target.is_file():
            return None, ""
        return target, self.types.get(path) or DEFAULT_TYPES.get(target.suffix, "application/octet-stream")

    def content(self, url_path: str) -> tuple[bytes, str] | None:
        """The body (``__BASE_URL__`` replaced) and Content-Type served for a URL path, or None.
        Bodies stay in memory (up to :data:`CACHE_BYTES`) while their file's size and mtime stay
        the same; a file served under several URLs (symlinks) is held once."""
        known = self._targets.get(url_path)
        if known is None:
            found, content_type = self.resolve(url_path)
            if found is None:
                return None
            known = (found, content_type)
            with self._lock:
                self._targets[url_path] = known
        target, content_type = known
        try:
            stat = target.stat()
        except OSError:  # gone since: resolve again
            with self._lock:
                self._targets.pop(url_path, None)
            return self.content(url_path) if self.resolve(url_path)[0] is not None else None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._bodies.get(target)
        if cached is not None and cached[0] == stamp:
            return cached[1], content_type
        body = target.read_bytes().replace(PLACEHOLDER, self.base_url.encode("ascii"))
        with self._lock:
            old = self._bodies.pop(target, None)
            self._cached_bytes -= len(old[1]) if old else 0
            if self._cached_bytes + len(body) <= CACHE_BYTES:
                self._bodies[target] = (stamp, body)
                self._cached_bytes += len(body)
        return body, content_type

    def record(self, method: str, path: str, status: int, client_port: int = 0) -> None:
        """Note one request; the access log's line ends with the client's port (one per
        connection: a crawl that reuses its connections shows few)."""
        with self._lock:
            self.requests.append((method, path, status))
            if self.access_log is not None:
                with self.access_log.open("a", encoding="utf-8") as log:
                    log.write(f"{method} {path} {status} {client_port}\n")

    def record_close(self, client_port: int) -> None:
        """Note that a connection ended (``CLOSE - 0 <port>`` in the access log)."""
        if self.access_log is not None:
            with self._lock, self.access_log.open("a", encoding="utf-8") as log:
                log.write(f"CLOSE - 0 {client_port}\n")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "newsclean-demo/1.0"
            # keep-alive, as a news site's server: a crawl reuses its connections (HTTP/1.0 made
            # it open, resolve and close one per page); every answer has a Content-Length
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve(send_body=True)

            def do_HEAD(self) -> None:
                self._serve(send_body=False)

            def _serve(self, send_body: bool) -> None:
                found = server.content(self.path)
                if found is None:
                    body, status = b"<html><body><h1>404 Not Found</h1></body></html>", 404
                    content_type = DEFAULT_TYPES[".html"]
                else:
                    (body, content_type), status = found, 200
                server.record(self.command, self.path, status, self.client_address[1])
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def finish(self) -> None:
                super().finish()
                server.record_close(self.client_address[1])

            def log_message(self, format: str, *args: object) -> None:
                logger.debug("demo site: " + format, *args)

        return Handler


def main() -> None:
    """``python -m crawler.demo_server [FOLDER] [PORT]``: serve the demo site in the foreground."""
    import sys
    import time

    root = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[1] / "fixtures/demo_site/site")
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with DemoServer(root, port) as server:
        print(f"serving {server.root} at {server.base_url}/ (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
