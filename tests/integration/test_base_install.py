"""The base install (no extras) runs the main job; shared mode without the redis extra stops with
one clear line. "No extra" is made real in a subprocess whose ``sys.modules`` maps redis-py and
scrapy-redis to ``None``: importing either then fails as it does where they are not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipelines.store import REDIS_EXTRA_MISSING

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_EXTRA = "import sys; sys.modules['redis'] = sys.modules['scrapy_redis'] = None; "


def run_without_extra(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRA + code], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_crawl_settings_and_addon_load_without_the_redis_extra(tmp_path: Path) -> None:
    code = ("from scrapy.utils.project import get_project_settings; import crawler.spiders.news, crawler.shared; "
            "s = get_project_settings(); crawler.shared.SharedCrawl().update_settings(s); print(s['SCHEDULER'])")
    result = run_without_extra(code, ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scrapy.core.scheduler.Scheduler"


def test_shared_crawl_without_the_extra_stops_with_one_line(tmp_path: Path) -> None:
    code = ("from scrapy.cmdline import execute; "
            "execute(['scrapy', 'crawl', 'news', '-a', 'site=demo', '-s', 'NEWSCLEAN_REDIS_URL=redis://127.0.0.1:9/0'])")
    result = run_without_extra(code, ROOT)
    assert result.returncode == 2
    assert REDIS_EXTRA_MISSING in result.stderr
    assert "Traceback" not in result.stderr


def test_clean_with_redis_state_without_the_extra_stops_with_one_line(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Un texte.</p></body></html>")
    code = ("from pipelines.cli.main import main; "
            f"sys.exit(main(['clean', {str(page)!r}, '-o', {str(tmp_path / 'out.jsonl')!r}, "
            "'--state', 'redis://127.0.0.1:9/0']))")
    result = run_without_extra(code, tmp_path)
    assert result.returncode == 2
    assert REDIS_EXTRA_MISSING in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.jsonl").exists() or (tmp_path / "out.jsonl").read_bytes() == b""
