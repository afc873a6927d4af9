"""The cleaning core: page bytes in, one article record (or a drop with a reason) out.

    bytes -> unpack -> decode -> parse once -> metadata -> DOM rules -> extract (trafilatura)
          -> language -> line rules -> content hash and record

Each arrow is a step of :mod:`pipelines.core.steps`; :class:`Cleaner` runs them and counts every
step's verdicts (:attr:`Cleaner.counters`). Nothing here imports Scrapy: the crawl's item pipelines
and ``newsclean clean`` both call :meth:`Cleaner.clean`, so both write byte-identical records for
the same page.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from lxml.html import HtmlElement

from pipelines.core.candidates import shipped_params
from pipelines.core.dom_rules import DomRuleSet
from pipelines.core.extract import MODES, prepare
from pipelines.core.language import LanguageDetector
from pipelines.core.line_rules import TextRuleSet
from pipelines.core.page import CleanOptions, Drop, Page, iso_utc, word_count
from pipelines.core.record import Record
from pipelines.core.stage_clock import NO_CLOCK, StageClock
from pipelines.core.steps.base import State, Step
from pipelines.core.steps.lines import LanguageStep, LineRulesStep, RecordStep, TextLinesStep
from pipelines.core.steps.markup import DecodeStep, ParseStep, TreeBuilder, UnpackStep
from pipelines.core.steps.tree import DomRulesStep, ExtractStep, MetadataStep
from pipelines.core.time_limit import PageTimeout, time_limit
from pipelines.reasons import PAGE_REASONS

logger = logging.getLogger(__name__)

#: Why a page gives no record: the ``page`` side of :mod:`pipelines.reasons` (stats keys, ``rejects`` reasons).
DROP_REASONS: dict[str, str] = PAGE_REASONS


class Cleaner:
    """The steps, built once per process (compiled rules, the seeded language detector), and their counters.

    :attr:`counters` maps ``<step>/in``, ``<step>/forwarded``, ``<step>/dropped/<reason>`` (a key
    of :data:`DROP_REASONS`), ``dom_rules/reverted`` (matches the DOM rules' safety valve kept),
    ``extract/asked/<candidate>`` (pages where the selector computed that candidate) and
    ``extract/selector/<decision>`` (pages where that decision of the selector changed the text)
    to their counts over the pages this cleaner has seen. For every step ``in = forwarded +
    Σ dropped/*``, and a step's ``in`` is the ``forwarded`` of the step before it (``language/in``:
    ``extract/forwarded + text/forwarded``). A page that times out or fails is dropped by the
    step it was in (``timeout``, ``too_deep``, ``error``).
    """

    def __init__(self, options: CleanOptions | None = None) -> None:
        self.options = options = options or CleanOptions()
        if options.extraction_mode not in MODES:
            raise ValueError(f"extraction_mode {options.extraction_mode!r}: one of {', '.join(MODES)}")
        self.dom_rules = DomRuleSet()
        self.text_rules = TextRuleSet()
        self.detector = LanguageDetector(sample_chars=options.language_sample)
        prepare()  # trafilatura's lazily loaded data (jusText stoplists), loaded here, not in a page
        self._trees = TreeBuilder()
        #: per-stage timing for bench/speed.py (a no-op unless replaced by a StageClock)
        self.clock: StageClock = NO_CLOCK
        tail: tuple[Step, ...] = (
            LanguageStep(self.detector),
            LineRulesStep(self.text_rules, options.min_words, options.debug),
            RecordStep(options.debug),
        )
        #: the steps of :meth:`clean`, in order
        self.page_steps: tuple[Step, ...] = (
            UnpackStep(options.max_page_bytes),
            DecodeStep(),
            ParseStep(self._trees, options.max_elements),
            MetadataStep(options.extensive_dates),
            DomRulesStep(self.dom_rules, options.debug),
            ExtractStep("precision" if options.favor_precision else options.extraction_mode,
                        None if options.single_candidate else shipped_params(), options.debug),
            *tail,
        )
        #: the steps of :meth:`clean_text`, in order
        self.text_steps: tuple[Step, ...] = (TextLinesStep(self.detector, self.text_rules), *tail)
        self.counters: dict[str, int] = {}
        for step in (*self.page_steps, self.text_steps[0]):
            self.counters[f"{step.name}/in"] = 0
            self.counters[f"{step.name}/forwarded"] = 0
            if step.valve:
                self.counters[f"{step.name}/reverted"] = 0
        every = (*self.page_steps, *self.text_steps)
        self._keys = {step: (f"{step.name}/in", f"{step.name}/forwarded") for step in every}

    # -- pages ---------------------------------------------------------------------------------
    def clean(self, page: Page) -> Record | Drop:
        """Clean one page. Never raises for a bad page: every failure is a :class:`Drop`."""
        source = page.source or page.url
        state = State(source, page.url, page.fetched_at, page.body, page.content_type)
        result: Record | Drop
        try:
            with time_limit(self.options.time_limit):
                result = self._run(self.page_steps, state)
        except PageTimeout:
            result = Drop("timeout", source, page.url, f"over {self.options.time_limit:g} s")
        except RecursionError:
            result = Drop("too_deep", source, page.url, "recursion limit")
        except Exception as exc:  # a cleaner bug must not stop a run: counted, logged once
            logger.exception("cleaner error on %s", source)
            result = Drop("error", source, page.url, f"{type(exc).__name__}: {exc}")
        self._count(self.page_steps, state, result)
        return result

    def parse(self, text: str) -> HtmlElement | None:
        """The tree the ``parse`` step builds from decoded text (``None``: nothing to parse)."""
        return self._trees.parse(text)

    # -- text ----------------------------------------------------------------------------------
    def clean_text(self, text: str, source: str, url: str = "", fetched_at: datetime | None = None,
                   given: dict[str, Any] | None = None) -> Record | Drop:
        """Re-clean text extracted earlier: the line rules only.

        ``given``: the JSONL line the text came from, whose fields (title, dates, authors,
        language, ``id``, ``removed`` …) the record keeps. Without it (a text file), the headline
        is the first line that survives the rules when it looks like one (split from a standfirst
        glued to it); later lines that repeat it are dropped as ``title_repeat``.
        """
        state = State(source, url, fetched_at)
        state.text = text
        state.given = given
        result = self._run(self.text_steps, state)
        self._count(self.text_steps, state, result)
        return result

    # -- the runner ----------------------------------------------------------------------------
    def _run(self, steps: tuple[Step, ...], state: State) -> Record | Drop:
        clock = self.clock
        clock.start()
        for index, step in enumerate(steps):
            state.at = index
            drop = step.run(state)
            if drop is not None:
                return drop
            clock.lap(step.stage)
        return state.record  # type: ignore[return-value]

    def _count(self, steps: tuple[Step, ...], state: State, result: Record | Drop) -> None:
        """Count each step's verdict on the page once it is done (a timeout may land anywhere)."""
        counters, keys = self.counters, self._keys
        dropped = isinstance(result, Drop)
        last = state.at if dropped else len(steps)
        for step in steps[:last]:
            key_in, key_forwarded = keys[step]
            counters[key_in] += 1
            counters[key_forwarded] += 1
        if isinstance(result, Drop):
            step = steps[state.at]
            counters[keys[step][0]] += 1
            key = f"{step.name}/dropped/{result.reason}"
            counters[key] = counters.get(key, 0) + 1
        selection = state.selection
        if selection is not None:  # the extract step's selector: what it asked, what it changed
            for key in (*(f"extract/asked/{n}" for n in selection.asked),
                        *(f"extract/selector/{n}" for n in selection.decisions)):
                counters[key] = counters.get(key, 0) + 1
        if state.reverted:
            for step in steps[: last + 1]:
                if step.valve:
                    counters[f"{step.name}/reverted"] += state.reverted


_DEFAULT: Cleaner | None = None


def default_cleaner() -> Cleaner:
    """The process-wide cleaner with default options (built on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Cleaner()
    return _DEFAULT


def clean_page(page: Page, cleaner: Cleaner | None = None) -> Record | Drop:
    return (cleaner or default_cleaner()).clean(page)


__all__ = [
    "DROP_REASONS", "CleanOptions", "Cleaner", "Drop", "Page", "Record", "clean_page", "iso_utc", "word_count",
]
