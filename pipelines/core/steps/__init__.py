"""The cleaner's steps: one small class per job, each passing the page on or dropping it.

    unpack -> decode -> parse -> metadata -> dom_rules -> extract -> language -> line_rules -> record
                                                              text -> language -> line_rules -> record

:class:`pipelines.core.cleaner.Cleaner` builds the two lists once and counts every step's verdicts.
"""

from pipelines.core.steps.base import State, Step
from pipelines.core.steps.lines import LanguageStep, LineRulesStep, RecordStep, TextLinesStep
from pipelines.core.steps.markup import DecodeStep, ParseStep, TreeBuilder, UnpackStep, looks_binary
from pipelines.core.steps.tree import DomRulesStep, ExtractStep, MetadataStep, space_inline_boundaries

__all__ = [
    "DecodeStep", "DomRulesStep", "ExtractStep", "LanguageStep", "LineRulesStep", "MetadataStep", "ParseStep",
    "RecordStep", "State", "Step", "TextLinesStep", "TreeBuilder", "UnpackStep", "looks_binary",
    "space_inline_boundaries",
]
