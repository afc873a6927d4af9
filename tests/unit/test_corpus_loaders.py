"""The two loading examples of docs/corpus.md (HuggingFace ``datasets``, datatrove's ``JsonlReader``),
run as written on a corpus cleaned from the fixtures: every record comes back whole.

Each example runs in its own interpreter, in the corpus's folder, with the hub switched off
(``HF_HUB_OFFLINE``, ``HF_DATASETS_OFFLINE``) and a cache inside the test's folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT
from support.offline import read_jsonl

from pipelines.core.cleaner import Cleaner, Page
from pipelines.core.record import FIELDS, dumps
from pipelines.run.offline import CleanJob, RunOptions, run_clean

DOC = ROOT / "docs" / "corpus.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
BODY = "".join(f"<p>Paragraph {i} of the harbour story tells how the ferry came back after its repairs, with new "
               "engines and a repainted hull for the summer season.</p>" for i in range(4))
#: head markup giving each form of ``date_published``: offset, local time, day only
DATED_PAGES = {
    "offset": '<meta property="article:published_time" content="2024-03-01T09:15:00+01:00">',
    "local": '<meta name="date" content="2024-03-02"></head><body><p><time>02/03/2024 à 07h45</time></p>',
    "day": '<meta name="date" content="2024-03-03">',
}


def doc_example(needle: str) -> str:
    [code] = [block for block in _BLOCK.findall(DOC.read_text("utf-8")) if needle in block]
    return code


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, cleaner: Cleaner) -> tuple[Path, list[dict[str, Any]]]:
    """``corpus.jsonl``: the demo site's articles as ``newsclean clean`` writes them, then pages
    whose ``date_published`` has an offset, a local time and a day only."""
    folder = tmp_path_factory.mktemp("corpus")
    path = folder / "corpus.jsonl"
    run_clean(CleanJob(inputs=[str(FIXTURES / "demo_site" / "site" / "articles")], output=str(path),
                       run=RunOptions(jobs=1, ordered=True, progress=False)))
    with path.open("ab") as out:
        for name, head in DATED_PAGES.items():
            html = (f'<html lang="en"><head><title>Harbour ferry {name}</title>{head}</head><body><article>'
                    f"<h1>Harbour ferry {name}</h1>{BODY}</article></body></html>")
            record = cleaner.clean(Page(body=html.encode(), url=f"https://gazette.example/{name}",
                                        fetched_at=datetime(2024, 3, 5, tzinfo=UTC)))
            assert isinstance(record, dict), record
            out.write(dumps(record))
    records = read_jsonl(path)
    assert [r["date_published"] for r in records[-3:]] == ["2024-03-01T09:15:00+01:00", "2024-03-02T07:45:00",
                                                           "2024-03-03"]
    return folder, records


def run_example(folder: Path, code: str, check: str) -> Any:
    """Run ``code`` then ``check`` (which writes ``result.json``) in a new interpreter in ``folder``."""
    env = {**os.environ, "HF_HOME": str(folder / "hf"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    done = subprocess.run([sys.executable, "-c", code + "\n" + check], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((folder / "result.json").read_text("utf-8"))


def test_datasets_example_loads_every_record_whole(corpus: tuple[Path, list[dict[str, Any]]]) -> None:
    folder, records = corpus
    check = ("import json\n"
             "json.dump({'features': list(features), 'rows': corpus.to_list()}, open('result.json', 'w'))\n")
    result = run_example(folder, doc_example("load_dataset("), check)
    assert tuple(result["features"]) == FIELDS
    assert result["rows"] == records


def test_datatrove_example_reads_every_record_whole(corpus: tuple[Path, list[dict[str, Any]]]) -> None:
    folder, records = corpus
    check = ("import json\n"
             "rows = [{'id': d.id, 'text': d.text, **{k: v for k, v in d.metadata.items() if k != 'file_path'}}\n"
             "        for d in reader.run()]\n"
             "json.dump(rows, open('result.json', 'w'))\n")
    rows = run_example(folder, doc_example("JsonlReader("), check)
    assert [{k: row[k] for k in FIELDS} for row in rows] == records
