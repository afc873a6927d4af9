"""Versions in a real crawl of the demo site (a copy, NEWSCLEAN_DEMO_ROOT): between runs one
article is rewritten in part, one gets a one-word typo fix, one is left as it was, and the three
get a newer sitemap ``lastmod``. The three are fetched again; only the rewritten one gives a record,
version 2, exactly once, also when the version run is SIGKILLed at random moments and rerun."""

from __future__ import annotations

import random
import re
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from support.crawl import DEMO, ROOT, crawl_command, free_port, path_of, read_access_log, run_crawl
from test_kills import SEED, lines_of, whole_records

from pipelines.store import STATE_FILE, SQLiteStateStore

CHANGED = "/articles/velo-electrique-batterie-reparation.html"
TYPO = "/articles/console-portable-pc-comparatif.html"
SAME = "/articles/cybersecurite-hopitaux-rancongiciel.html"
NEW_PARAGRAPHS = (
    "<p>Mise à jour : le ministère a annoncé un label national pour les ateliers de reconditionnement, "
    "avec un contrôle annuel des procédures de sécurité, une garantie minimale de deux ans sur les "
    "cellules remplacées et un registre public des centres agréés dans chaque département.</p>"
    "<p>Les fabricants de vélos disent vouloir ouvrir leurs protocoles de gestion des batteries, afin "
    "que les réparateurs indépendants puissent réinitialiser les compteurs de cycles sans passer par "
    "le réseau des concessionnaires, ce que réclament les associations d'usagers depuis trois ans.</p>"
)
SLOW = ("AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0.2", "CONCURRENT_REQUESTS=1")


def site_copy(tmp: Path) -> Path:
    root = tmp / "site"
    shutil.copytree(DEMO / "site", root)
    return root


def update_site(root: Path) -> None:
    """The edits between runs, and a sitemap ``lastmod`` of now for the three articles."""
    page = root / CHANGED.lstrip("/")
    html = page.read_text("utf-8")
    start = html.index('<div class="entry-content">')
    cut = html.index("</p>", start) + len("</p>")
    page.write_text(html[:cut] + NEW_PARAGRAPHS + html[cut:], "utf-8")
    typo = root / TYPO.lstrip("/")
    typo.write_text(typo.read_text("utf-8").replace("Le marché des consoles", "Le marche des consoles", 1), "utf-8")
    sitemap = root / "sitemap-articles.xml"
    # a lastmod has whole seconds: wait into the next second, so that it is later than a fetch
    # made in this one (else it reads as older than the fetch and nothing is refetched)
    time.sleep(1.01 - time.time() % 1)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = sitemap.read_text("utf-8")
    for path in (CHANGED, TYPO, SAME):
        text, n = re.subn(rf"(<loc>__BASE_URL__{re.escape(path)}</loc><lastmod>)[^<]+", rf"\g<1>{now}", text)
        assert n == 1
    sitemap.write_text(text, "utf-8")


def versions_of(records: list[dict[str, Any]], path: str) -> list[int]:
    return [r.get("version", 1) for r in records if path_of(r["url"]) == path]


def test_a_changed_article_is_written_again_as_version_2_and_unchanged_ones_are_not(tmp_path: Path) -> None:
    root, state, port = site_copy(tmp_path), tmp_path / "state", free_port()
    settings = (f"NEWSCLEAN_DEMO_ROOT={root}", "NEWSCLEAN_REFETCH_INTERVAL=0.01")
    first = run_crawl(tmp_path, "first", state, port, *settings)
    assert first.returncode == 0, first.log[-3000:]
    assert "newsclean/spider/refetched/updated" not in first.stats
    update_site(root)
    second = run_crawl(tmp_path, "second", state, port, *settings)
    assert second.returncode == 0, second.log[-3000:]
    # the three with a newer lastmod are fetched again, and only they among the stored articles
    stored = {path_of(r["url"]) for r in first.records}
    assert {CHANGED, TYPO, SAME} <= stored
    assert {p for _, p, status in second.requests if status == 200} & stored == {CHANGED, TYPO, SAME}
    assert second.stats["newsclean/spider/refetched/updated"] == 3
    assert [r for r in second.records if r.get("version") != 2] == []
    assert versions_of(second.records, CHANGED) == [2]
    [v1] = [r for r in first.records if path_of(r["url"]) == CHANGED]
    [v2] = second.records
    assert v2["previous_content_hash"] == v1["content_hash"] and v2["id"] == v1["id"]
    assert list(v2)[:-2] == list(v1) and list(v2)[-2:] == ["version", "previous_content_hash"]
    assert second.stats["newsclean/dedup/dropped/unchanged"] == 1
    assert second.stats["newsclean/dedup/dropped/minor_edit"] == 1
    assert second.stats["newsclean/dedup/version_written"] == 1
    # fetched since their lastmod: a third run fetches none of them again and writes nothing
    third = run_crawl(tmp_path, "third", state, port, *settings)
    assert third.returncode == 0, third.log[-3000:]
    assert "newsclean/spider/refetched/updated" not in third.stats
    assert third.records == []
    # a newer date again, but the last fetch is younger than the interval: not fetched again yet
    update_site(root)
    early = run_crawl(tmp_path, "early", state, port, f"NEWSCLEAN_DEMO_ROOT={root}", "NEWSCLEAN_REFETCH_INTERVAL=3600")
    assert early.returncode == 0, early.log[-3000:]
    assert early.records == [] and "newsclean/spider/refetched/updated" not in early.stats
    # NEWSCLEAN_REFETCH_INTERVAL=0: never fetched again, whatever the dates say
    off = run_crawl(tmp_path, "off", state, port, f"NEWSCLEAN_DEMO_ROOT={root}", "NEWSCLEAN_REFETCH_INTERVAL=0")
    assert off.returncode == 0, off.log[-3000:]
    assert off.records == [] and "newsclean/spider/refetched/updated" not in off.stats


def test_version_run_killed_at_random_moments_writes_version_2_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(SEED + 16)
    root, state, port = site_copy(tmp_path), tmp_path / "state", free_port()
    settings = (f"NEWSCLEAN_DEMO_ROOT={root}", "NEWSCLEAN_REFETCH_INTERVAL=0.01")
    first = run_crawl(tmp_path, "first", state, port, *settings)
    assert first.returncode == 0, first.log[-3000:]
    update_site(root)
    outputs, kills = [], []
    for run in range(4):
        out, access = tmp_path / f"v{run}.jsonl", tmp_path / f"v{run}.access.log"
        outputs.append(out)
        pool = 2 if run % 2 == 0 else 0
        cmd = crawl_command(out, state, port, access, *settings, f"NEWSCLEAN_POOL_SIZE={pool}",
                            "NEWSCLEAN_POOL_WARM_IN_PROCESS=False", *SLOW)
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if run < 3:
            # anywhere from start-up on, or just after the changed article was fetched (cleaning,
            # claiming, writing, committing its version)
            after_fetch = rng.random() < 0.5
            deadline = 300.0
            while after_fetch and process.poll() is None and deadline > 0 and not any(
                    p == CHANGED for _, p, _ in read_access_log(access)):
                subprocess.run(["sleep", "0.01"], check=True)
                deadline -= 0.01
            delay = rng.uniform(0, 0.6 if after_fetch else 6.0)
            subprocess.run(["sleep", f"{delay:.3f}"], check=True)
            landed = process.poll() is None
            if landed:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            assert process.stderr is not None
            process.stderr.close()
            kills.append({"after_fetch": after_fetch, "delay": round(delay, 3), "landed": landed,
                          "lines": lines_of(out)})
        else:
            _, log = process.communicate(timeout=300)
            assert process.returncode == 0, log.decode()[-3000:]
    print(f"version kills: {kills}")
    assert any(k["landed"] for k in kills)
    records = [r for out in outputs for r in whole_records(out)]
    # exactly one version-2 record across the outputs, and nothing else
    assert [(path_of(r["url"]), r.get("version")) for r in records] == [(CHANGED, 2)]
    [v1] = [r for r in first.records if path_of(r["url"]) == CHANGED]
    assert records[0]["previous_content_hash"] == v1["content_hash"]
    store = SQLiteStateStore(state / STATE_FILE, commit="export")  # settles what a kill left
    try:
        assert store.pending() == 0
        last = store.url_version(v1["url"])
        assert last is not None and (last.version, last.content_hash) == (2, records[0]["content_hash"])
    finally:
        store.close()
