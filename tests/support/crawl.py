"""Helpers of the crawl tests: run real ``scrapy crawl news`` subprocesses against the demo site."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_site"
MANIFEST: dict[str, Any] = json.loads((DEMO / "manifest.json").read_text("utf-8"))
STAT_LINE = re.compile(r"^ '([^']+)': (\d+(?:\.\d+)?),?}?$", re.MULTILINE)


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, grandchildren …), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def crawl_command(output: Path | None, state: Path, port: int, access_log: Path, *settings: str) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=demo"]
    if output is not None:
        cmd += ["-o", str(output)]
    cmd += [
        "-s", f"NEWSCLEAN_STATE_DIR={state}",
        "-s", f"NEWSCLEAN_DEMO_PORT={port}",
        "-s", f"NEWSCLEAN_DEMO_ACCESS_LOG={access_log}",
        "-s", "LOG_LEVEL=INFO",
    ]
    for setting in settings:
        cmd += ["-s", setting]
    return cmd


@dataclass
class Run:
    returncode: int
    log: str
    stats: dict[str, float]
    records: list[dict[str, Any]]
    requests: list[tuple[str, str, int]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path}: a partial last line"
    return [orjson.loads(line) for line in data.splitlines()]


def read_access_log(path: Path) -> list[tuple[str, str, int]]:
    """(method, path, status) of each request the demo server logged."""
    return [(method, url_path, status) for method, url_path, status, _ in read_access_log_ports(path)
            if method != "CLOSE"]


def read_access_log_ports(path: Path) -> list[tuple[str, str, int, int]]:
    """(method, path, status, client port) of each request the demo server logged, and
    ``("CLOSE", "-", 0, port)`` where a connection ended."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text("utf-8").splitlines():
        method, url_path, status, port = line.split(" ")
        rows.append((method, url_path, int(status), int(port)))
    return rows


def run_crawl(tmp: Path, name: str, state: Path, port: int, *settings: str, feed: bool = True) -> Run:
    """Run one crawl to completion; with ``feed`` its output goes to ``<tmp>/<name>.jsonl``."""
    out = tmp / f"{name}.jsonl" if feed else None
    access = tmp / f"{name}.access.log"
    proc = subprocess.run(
        crawl_command(out, state, port, access, *settings),
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    stats = {k: float(v) for k, v in STAT_LINE.findall(proc.stderr)}
    return Run(proc.returncode, proc.stderr, stats, read_jsonl(out) if out else [], read_access_log(access))


def article_paths() -> set[str]:
    return {a["path"] for a in MANIFEST["articles"]}


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


#: What a scripted site answers a GET: status, headers (Content-Length is added) and body.
Answer = tuple[int, dict[str, str], bytes]


class ScriptedServer(ThreadingHTTPServer):
    """A real HTTP server on 127.0.0.1 (a free port) answering each GET with ``answer(handler)``,
    or closing the connection without a word when it returns None.
    The listen backlog is raised as the demo server's is (the stdlib's 5 drops connections a
    crawl opens at once). ``start`` serves from a daemon thread, ``stop`` ends it."""

    request_queue_size = 128
    daemon_threads = True

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], Answer | None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                given = answer(self)
                if given is None:
                    self.close_connection = True
                    return
                status, headers, body = given
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = int(self.server_address[1])

    def start(self) -> ScriptedServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
