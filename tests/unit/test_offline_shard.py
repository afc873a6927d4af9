"""``newsclean clean --shard I/N``: N runs over the same inputs split them, none twice, none lost.

The shards share one ``--state`` store, as machines splitting a corpus would, so an article found
under two sources (a syndicated copy) is written by whichever shard claims it first, once.
"""

from __future__ import annotations

from pathlib import Path

from support.offline import read_jsonl
from test_cli import newsclean

from pipelines.io.inputs import in_shard

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
INPUTS = [str(FIXTURES / "pages"), str(FIXTURES / "samples" / "text")]


def test_shards_partition_the_records(tmp_path: Path) -> None:
    full = tmp_path / "full.jsonl"
    # near-duplicates off: which of two near copies is kept depends on the order the shards run in
    # (tests/unit/test_neardup.py checks that shards write one of them); exact copies are checked here
    assert newsclean("clean", *INPUTS, "-o", str(full), "-j", "1", "-q", "--near-duplicates", "off").returncode == 0
    whole = {r["content_hash"]: r for r in read_jsonl(full)}
    assert len(whole) > 10
    state = tmp_path / "state"
    parts: list[dict[str, object]] = []
    for index in (1, 2, 3):
        out = tmp_path / f"shard{index}.jsonl"
        run = newsclean("clean", *INPUTS, "-o", str(out), "-j", "1", "-q", "--shard", f"{index}/3",
                        "--state", str(state), "--near-duplicates", "off")
        assert run.returncode == 0, run.stderr
        records = read_jsonl(out)
        assert records, f"shard {index}/3 is empty"
        assert all(in_shard(str(r["source"]), index - 1, 3) for r in records)
        parts.extend(records)
    hashes = [str(r["content_hash"]) for r in parts]
    assert len(hashes) == len(set(hashes))  # no article twice
    assert set(hashes) == set(whole)  # together: every article of the whole run
    by_source = {r["source"]: r for r in whole.values()}
    for record in parts:  # where both runs kept the same page, the records are the same
        if record["source"] in by_source:
            assert record == by_source[record["source"]]


def test_shard_argument_is_checked(tmp_path: Path) -> None:
    for bad in ("0/3", "4/3", "x", "1/0"):
        run = newsclean("clean", INPUTS[1], "-o", str(tmp_path / "o.jsonl"), "--shard", bad)
        assert run.returncode == 2, bad
        assert "--shard" in run.stderr
