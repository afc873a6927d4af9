"""The cleaner as counted steps, and its options as flags and settings.

* Every :class:`CleanOptions` field is a ``newsclean clean`` flag and a ``NEWSCLEAN_<FIELD>``
  crawl setting: checked field by field from ``dataclasses.fields``, so a new field cannot miss one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from scrapy.settings import Settings

import crawler.settings
from pipelines.cli.main import _core_options, build_parser
from pipelines.core.cleaner import CleanOptions
from pipelines.core.extract import MODES
from pipelines.item_pipelines import clean_options

FIELDS = dataclasses.fields(CleanOptions)


def _other_value(field: dataclasses.Field[Any]) -> Any:
    """A valid value of the field that is not its default."""
    default = field.default
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 7
    if isinstance(default, float):
        return default + 1.5
    if field.name == "extraction_mode":
        return next(mode for mode in MODES if mode != default)
    raise AssertionError(f"CleanOptions.{field.name}: no test value for {type(default).__name__}")


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_every_option_is_a_clean_flag(field: dataclasses.Field[Any]) -> None:
    value = _other_value(field)
    flag = "--" + field.name.replace("_", "-")
    argv = ["clean", "page.html", "-o", "out.jsonl", flag]
    if not isinstance(value, bool):
        argv.append(str(value))
    args = build_parser().parse_args(argv)
    options = _core_options(args, args.debug)
    assert getattr(options, field.name) == value
    others = {f.name for f in FIELDS} - {field.name}
    assert all(getattr(options, name) == getattr(CleanOptions(), name) for name in others)


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_every_option_is_a_crawl_setting(field: dataclasses.Field[Any]) -> None:
    name = f"NEWSCLEAN_{field.name.upper()}"
    assert getattr(crawler.settings, name) == field.default, f"{name} missing from crawler/settings.py"
    settings = Settings()
    settings.setmodule(crawler.settings)
    assert clean_options(settings) == CleanOptions()
    value = _other_value(field)
    settings.set(name, str(value) if not isinstance(value, bool) else value)
    assert getattr(clean_options(settings), field.name) == value
