"""The two paths agree: a crawl of the demo site, and the same pages saved to disk and to a WARC
cleaned by ``newsclean clean``, give identical records but for ``source``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.crawl import DEMO, free_port, path_of, run_crawl
from support.offline import read_jsonl
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

CONTENT_TYPES: dict[str, str] = json.loads((DEMO / "site" / "_headers.json").read_text("utf-8"))


def served(path: str, port: int) -> tuple[bytes, str]:
    """The body and Content-Type the demo server sends for ``path``."""
    body = (DEMO / "site" / path.lstrip("/")).read_bytes().replace(b"__BASE_URL__", f"http://127.0.0.1:{port}".encode())
    return body, CONTENT_TYPES.get(path, "text/html; charset=utf-8")


def clean(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pipelines.cli", "clean", "-q", "-j", "2", *args], check=True)


def without_source(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["url"]: {**r, "source": None} for r in records}


def test_crawl_saved_files_and_warc_give_the_same_records(tmp_path: Path) -> None:
    port = free_port()
    crawl = run_crawl(tmp_path, "crawl", tmp_path / "state", port, "NEWSCLEAN_POOL_SIZE=0")
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert len(crawl.records) >= 10

    saved = tmp_path / "saved"
    saved.mkdir()
    warc = tmp_path / "crawl.warc.gz"
    with open(warc, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for number, record in enumerate(crawl.records):
            body, content_type = served(path_of(record["url"]), port)
            page = saved / f"{number:03d}.html"
            page.write_bytes(body)
            sidecar = {"url": record["url"], "fetched_at": record["fetched_at"], "content_type": content_type}
            page.with_name(page.name + ".meta.json").write_text(json.dumps(sidecar), "utf-8")
            http = StatusAndHeaders("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                record["url"], "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
                warc_headers_dict={"WARC-Date": record["fetched_at"]}))

    clean(str(saved), "-o", str(tmp_path / "files.jsonl"))
    clean(str(warc), "-o", str(tmp_path / "warc.jsonl"))
    files = read_jsonl(tmp_path / "files.jsonl")
    archived = read_jsonl(tmp_path / "warc.jsonl")
    assert {r["source"] for r in files} == {str(saved / f"{n:03d}.html") for n in range(len(crawl.records))}
    assert all(r["source"].startswith(f"warc:{warc}#") for r in archived)
    expected = without_source(crawl.records)
    assert without_source(files) == expected
    assert without_source(archived) == expected
