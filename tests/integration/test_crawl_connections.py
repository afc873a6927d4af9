"""The crawl keeps the connections it opened (pipelines/compat/scrapy.py): a site that answers
with keep-alive sees a few connections for hundreds of requests, where Scrapy's own pool (at most
CONCURRENT_REQUESTS_PER_DOMAIN idle connections per host) closes and reopens them by the dozen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.crawl import DEMO, free_port, read_access_log_ports, run_crawl

ENTRY = b'<div class="entry-content">\n<p>'


def scaled_demo(target: Path, scale: int) -> Path:
    """The demo site with every article served ``scale`` times (one word differs per copy)."""
    shutil.copytree(DEMO / "site", target)
    links = []
    for page in sorted((target / "articles").glob("*.html")):
        data = page.read_bytes()
        if ENTRY not in data:
            continue
        for k in range(2, scale + 1):
            copy = page.with_name(f"{page.stem}-{k}.html")
            copy.write_bytes(data.replace(ENTRY, ENTRY + f"({k}) ".encode(), 1))
            links.append(f'<li><a href="/articles/{copy.name}">{copy.stem}</a></li>')
    section = target / "sections" / "fr.html"
    section.write_text(section.read_text("utf-8").replace("</ul>", "\n".join(links) + "\n</ul>", 1), "utf-8")
    return target


def crawl(tmp: Path, name: str, site: Path, *settings: str) -> list[tuple[str, str, int, int]]:
    """The demo server's log of one crawl without AutoThrottle: requests and connection ends."""
    run = run_crawl(tmp, name, tmp / f"{name}-state", free_port(), "AUTOTHROTTLE_ENABLED=False",
                    f"NEWSCLEAN_DEMO_ROOT={site}", *settings, feed=False)
    assert run.returncode == 0, run.log[-3000:]
    return read_access_log_ports(tmp / f"{name}.access.log")


def closed_mid_crawl(rows: list[tuple[str, str, int, int]]) -> int:
    """Connections that ended before the crawl's last request (the others end as it closes)."""
    last = max(i for i, row in enumerate(rows) if row[0] != "CLOSE")
    return sum(row[0] == "CLOSE" for row in rows[:last])


def test_the_crawl_keeps_the_connections_it_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = scaled_demo(tmp_path / "site", 12)
    ours = crawl(tmp_path, "ours", site)
    requests = [row for row in ours if row[0] != "CLOSE"]
    assert len(requests) > 250
    assert closed_mid_crawl(ours) == 0
    # (the server runs in the crawl's process: the connections closed as it exits are not all logged)
    assert len({port for *_, port in requests}) <= 32
    # Scrapy's pool as it is (the public path: NEWSCLEAN_COMPAT=public), on the same site:
    # connections closed and opened again as it goes
    monkeypatch.setenv("NEWSCLEAN_COMPAT", "public")
    theirs = crawl(tmp_path, "public", site)
    assert len([row for row in theirs if row[0] != "CLOSE"]) == len(requests)
    assert closed_mid_crawl(theirs) > 0
