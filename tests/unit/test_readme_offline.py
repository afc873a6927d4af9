"""README's offline examples, run one after the other as a reader would paste them, in a folder
holding the files they name: each must exit 0 (a rerun refused for an existing output would not)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from support.offline import FERRY, LIBRARY, many_pages, read_jsonl, write_warc

ROOT = Path(__file__).resolve().parents[2]


def offline_examples() -> list[str]:
    """The command lines of README's "2. offline cleaning" block, comments cut."""
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# 2. offline"))
    commands = []
    for line in lines[start + 1:]:
        if not line.strip() or line.startswith("#"):
            break
        commands.append(line.split("  #")[0].strip())
    return commands


def test_readme_offline_examples_run_in_turn(tmp_path: Path) -> None:
    examples = offline_examples()
    assert len(examples) >= 6 and all("newsclean" in line for line in examples)
    many_pages(tmp_path / "saved", 4)
    many_pages(tmp_path / "new-pages", 2)
    shutil.copy(LIBRARY, tmp_path / "new-pages" / "library.htm")
    write_warc(tmp_path / "crawl.warc.gz", gz=True)
    shutil.copy(FERRY, tmp_path / "page.html")
    shutil.copy(f"{FERRY}.meta.json", tmp_path / "page.html.meta.json")
    (tmp_path / "notes.txt").write_text("The fish market on the east quay opens at dawn every day.\n",
                                        encoding="utf-8")
    (tmp_path / "old-corpus.jsonl").write_text(
        '{"url": "https://gazette.example/a", "text": "The harbour ferry returns after a winter of repairs."}\n',
        encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for line in examples:
        result = subprocess.run(["bash", "-c", f"{line} -q --no-progress -j 1" if " clean " in line else line],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{line}: {result.returncode}\n{result.stderr}"
    corpus = read_jsonl(tmp_path / "corpus.jsonl")
    # after --force over saved/ alone: the saved pages, each once
    assert sorted(r["source"] for r in corpus) == sorted(f"saved/{p.name}" for p in (tmp_path / "saved").glob("*.html"))
    assert not list(tmp_path.glob("*.partial"))
    assert (tmp_path / "page.explained.html").exists()
    assert shlex.split(examples[0])[0] == "newsclean"
