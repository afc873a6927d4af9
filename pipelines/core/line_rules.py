"""Apply the line rules of :mod:`pipelines.rules.text` to extracted text.

Besides the pattern table, three context rules need the page's metadata and so are code, with
their own rule names: ``title_repeat`` (a line that repeats the headline or the standfirst),
``author_line`` (a line that is only the byline's author name) and the prefix window (prefix rules
only look at the first lines, where kickers and date residue sit).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field

from pipelines.rules import CATEGORIES, TextRule
from pipelines.rules.text import BYLINE_PREFIX_PATTERN, BYLINE_TAIL_PATTERN, TEXT_RULES

#: Prefix rules (kickers, date residue) only apply to this many first lines.
PREFIX_WINDOW = 3

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u200b]+")
_NON_WORD = re.compile(r"[\W_]+")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-Ý«“\"])")


def match_form(line: str) -> str:
    """The form lines are matched in: NFC, all spaces folded to one ASCII space, stripped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", line)).strip()


def key(text: str) -> str:
    """A comparison key: case-folded words only (for title and author matching)."""
    return _NON_WORD.sub(" ", text.casefold()).strip()


# byline words of every language module of pipelines.rules.text
_BYLINE_PREFIX = re.compile(BYLINE_PREFIX_PATTERN, re.IGNORECASE)
_BYLINE_TAIL = re.compile(BYLINE_TAIL_PATTERN, re.IGNORECASE)


def byline_author(line: str) -> str | None:
    """The author named by a byline: 'Par Léa Martin | publié le 3 mars' -> 'Léa Martin'."""
    name = _BYLINE_TAIL.sub("", _BYLINE_PREFIX.sub("", match_form(line))).strip(" ,|-–")
    return name or None


def split_title_standfirst(line: str) -> tuple[str, str | None]:
    """Split a headline glued to its standfirst ('Title. Standfirst …') at the first sentence."""
    parts = _SENTENCE_SPLIT.split(line, maxsplit=1)
    if len(parts) == 2 and len(parts[0]) >= 20 and len(parts[1]) >= 20:
        # a headline has no full stop of its own: it was the separator ('?', '!', '…' are kept)
        head = parts[0][:-1] if parts[0].endswith(".") and not parts[0].endswith("..") else parts[0]
        return head, parts[1]
    return line, None


class _Table:
    """The drop/byline rules of one language group, as two alternations (case-sensitive or not)."""

    def __init__(self, rules: Sequence[TextRule]) -> None:
        self.rules = list(rules)
        self.patterns: list[re.Pattern[str]] = []
        self.group_rules: list[list[TextRule]] = []
        for case in (False, True):
            group = [r for r in self.rules if r.case == case]
            if not group:
                continue
            alternation = "|".join(f"(?P<r{i}>{r.pattern})" for i, r in enumerate(group))
            self.patterns.append(re.compile(f"(?:{alternation})", 0 if case else re.IGNORECASE))
            self.group_rules.append(group)

    def match(self, line: str) -> TextRule | None:
        for pattern, group in zip(self.patterns, self.group_rules, strict=True):
            m = pattern.fullmatch(line)
            if m and m.lastgroup:
                return group[int(m.lastgroup[1:])]
        return None


@dataclass
class ResidueResult:
    lines: list[str]
    counts: Counter[str] = field(default_factory=Counter)
    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    bylines: list[str] = field(default_factory=list)
    #: lines dropped as title repeats: a longer one may be the fuller headline
    title_candidates: list[str] = field(default_factory=list)


class TextRuleSet:
    """The line rules, compiled once per language."""

    def __init__(self, rules: Iterable[TextRule] = TEXT_RULES) -> None:
        rules = tuple(rules)
        for rule in rules:
            if rule.category not in CATEGORIES or (rule.next_line and rule.next_line not in CATEGORIES):
                raise ValueError(f"rule {rule.name!r}: unknown category {rule.category!r} / {rule.next_line!r}")
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise ValueError("duplicate text rule names")
        self.rules = rules
        self.languages = sorted({r.lang for r in rules if r.lang != "*"})
        self._prefix = [(r, re.compile(r.pattern, 0 if r.case else re.IGNORECASE))
                        for r in rules if r.action == "strip_prefix"]
        self._line_rules = [r for r in rules if r.action != "strip_prefix"]
        #: each language's table, compiled when a text of that language first comes (a table is a
        #: few large alternations: compiling all of them would cost a process 0.1 s at start)
        self._tables: dict[str | None, _Table] = {}

    def table(self, lang: str | None) -> _Table:
        """The rules for texts in ``lang``: its own and the ``*`` ones; every rule when the
        language is unknown or has no rules of its own."""
        key = lang if lang in self.languages else None
        table = self._tables.get(key)
        if table is None:
            line_rules = self._line_rules
            table = self._tables[key] = _Table(
                [r for r in line_rules if r.lang in ("*", key)] if key is not None else line_rules)
        return table

    def strip_prefixes(self, line: str, result: ResidueResult, keep_text: bool) -> str:
        for rule, pattern in self._prefix:
            m = pattern.match(line)
            if m and m.end() < len(line):
                result.counts[rule.category] += 1
                if keep_text:
                    result.texts[rule.name].append(m.group(0).strip())
                line = line[m.end():]
        return line

    def apply(
        self,
        lines: Iterable[str],
        lang: str | None,
        title: str | None = None,
        description: str | None = None,
        authors: Sequence[str] = (),
        keep_text: bool = False,
        extra_repeats: Sequence[str] = (),
        verbatim: Container[int] = frozenset(),
    ) -> ResidueResult:
        """Drop the boilerplate lines; return the kept ones (in match form) and what went where.

        Lines whose index is in ``verbatim`` (code blocks) are kept as they are, blank or not:
        no rule applies to them and their spacing is not folded.
        """
        result = ResidueResult(lines=[])
        table = self.table(lang)
        repeats = _repeat_keys(title, None) + [key(x) for x in extra_repeats if key(x)]
        # the standfirst: at the top of the text it is the article's lead (kept); anywhere else,
        # a copy of it (removed as a repeat)
        standfirst = _repeat_keys(None, description)
        author_keys = {key(a) for a in authors if a}
        raw_lines = list(lines)
        rows = [match_form(raw) for raw in raw_lines]
        for index, line in enumerate(rows):
            if index in verbatim:
                result.lines.append(raw_lines[index].rstrip())
                continue
            if not line:
                continue
            if index < PREFIX_WINDOW:
                line = self.strip_prefixes(line, result, keep_text)
            rule = table.match(line)
            if rule is not None and rule.next_line and not _next_is(table, rows, index, rule.next_line):
                rule = None
            name: str | None = None
            category: str | None = None
            if rule is not None:
                name, category = rule.name, rule.category
                if rule.action == "byline":
                    result.bylines.append(line)
            elif repeats or standfirst or author_keys:
                line_key = key(line)  # once for the three tests
                if _repeats_key(line_key, repeats) or (
                        standfirst and result.lines and _repeats_key(line_key, standfirst)):
                    name, category = "title_repeat", "title_repeat"
                    result.title_candidates.append(line)
                elif author_keys and line_key in author_keys:
                    name, category = "author_line", "byline"
            if category is None:
                result.lines.append(line)
                continue
            result.counts[category] += 1
            if keep_text and name:
                result.texts[name].append(line)
        return result


def _next_is(table: _Table, lines: Sequence[str], index: int, category: str) -> bool:
    """Is the next non-blank line after ``index`` matched by a rule of ``category``?"""
    for line in lines[index + 1 :]:
        if line:
            rule = table.match(line)
            return rule is not None and rule.category == category
    return False


def _repeat_keys(title: str | None, description: str | None) -> list[str]:
    keys: list[str] = []
    for text in (title, description):
        if not text:
            continue
        keys.append(key(text))
        keys.extend(key(s) for s in _SENTENCE_SPLIT.split(match_form(text)) if len(s) >= 20)
    return [k for k in keys if k]


def is_repeat(line: str, repeat_keys: Sequence[str]) -> bool:
    """Is the line the headline or standfirst again (whole, one sentence of it, or a short extension)?"""
    if not repeat_keys:
        return False
    return _repeats_key(key(line), repeat_keys)


def _repeats_key(k: str, repeat_keys: Sequence[str]) -> bool:
    """:func:`is_repeat` on the line's :func:`key`, computed once."""
    if not k or not repeat_keys:
        return False
    for r in repeat_keys:
        if k == r:
            return True
        # the headline plus a few words ("… patron" / "… patron Jack Dorsey"), either way round
        if len(r) >= 20 and (k.startswith(r) or r.startswith(k)) and len(k) <= 1.5 * len(r) and len(k) >= 0.6 * len(r):
            return True
    return False
