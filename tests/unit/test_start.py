"""What a process loads at start: the parent of a worker pool reads inputs and writes records
without the cleaning core (trafilatura, lxml, langdetect, numpy: about 0.3 s of CPU)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("trafilatura", "lxml", "langdetect", "numpy", "pipelines.core.cleaner", "warcio", "rensa")


def _loaded(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_pool_parent_imports_no_cleaning_core() -> None:
    loaded = _loaded("import pipelines.cli.main, pipelines.run.offline, pipelines.run.pool, pipelines.io.inputs\n"
                     "from pipelines.core import CleanOptions, Drop, Page, Record")
    assert loaded == []


def test_the_core_loads_on_first_use() -> None:
    assert "trafilatura" in _loaded("from pipelines.core import Cleaner")
    assert "pipelines.core.cleaner" in _loaded("import pipelines.core\npipelines.core.clean_page")
