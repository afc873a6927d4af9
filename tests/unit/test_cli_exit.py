"""`newsclean clean`'s exit codes and argument errors, through the real command line parser."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipelines.cli.main import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "selector"


def test_a_missing_input_is_exit_3_and_the_others_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    code = main(["clean", str(tmp_path / "nosuch"), str(PAGES / "steps_list.html"), "-o", str(out), "-q",
                 "--no-progress", "-j", "1"])
    assert code == EXIT_INPUT
    assert "1 input path(s) not found" in capsys.readouterr().err
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(records) == 1 and "owl sign" in records[0]["text"]


def test_inputs_that_all_exist_are_exit_0(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["clean", str(PAGES / "steps_list.html"), "-o", str(out), "-q", "--no-progress", "-j", "1"]) == EXIT_OK


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("-j", "abc", "a whole number of 1 or more, not 'abc'"),
    ("--time-limit", "soon", "a number above 0, not 'soon'"),
    ("-j", "0", "must be at least 1, not 0"),
])
def test_bad_numbers_are_plain_usage_errors(flag: str, value: str, message: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["clean", "x.html", "-o", "out.jsonl", flag, value])
    assert stop.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("newsclean ")
