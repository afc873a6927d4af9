"""German: line rules, byline words and author separators."""

from __future__ import annotations

from pipelines.rules import TextRule
from pipelines.rules.text.common import Language

LANGUAGE = Language(
    code="de",
    rank=3,
    byline_prefixes=("Von",),
    rules={
        "consent": (
            TextRule("de_consent", "cookie_banner", "de",
                     r"(?:Wir|Diese Website) (?:verwende[nt]|nutz(?:t|en)) Cookies.{0,300}|Alle akzeptieren"
                     r"|Cookie-Einstellungen|Externer Inhalt.{0,200}(?:Einwilligung|Zustimmung|akzeptieren)\W*"),
        ),
        "comment_form": (
            TextRule("de_comment", "comment_form", "de",
                     r"(?:Kommentar (?:schreiben|verfassen)|Schreibe einen Kommentar|Deine E-Mail-Adresse wird nicht"
                     r" veröffentlicht.*|Erforderliche Felder sind mit \* markiert\.?)"),
        ),
        "ad_label": (
            TextRule("de_ad_label", "ad_label", "de", r"Anzeige|Werbung"),
        ),
        "ad_continue": (
            TextRule("de_ad_continue", "ad_label", "de",
                     r"Weiterlesen nach der Anzeige|(?:Der )?Artikel (?:wird )?(?:nach|unter) der Anzeige (?:fortgesetzt|weitergeführt)|Artikel geht nach der Anzeige weiter"),
        ),
        "affiliate_notice": (
            TextRule("de_affiliate_notice", "ad_label", "de",
                     r"(?=.{0,300}$)(?=.*\b(?:Affiliate|Partner)-?Links?\b)(?=.*\bProvision\b).*"),
        ),
        "follow_prompt": (
            TextRule("de_follow_prompt", "share_count", "de", r"(?:Folgen|Abonnieren) Sie uns (?:auf|bei) .{1,120}"),
        ),
        "breadcrumb": (
            TextRule("de_breadcrumb", "breadcrumb", "de", r"Startseite\s?[|>›»/].*"),
        ),
        "read_also": (
            TextRule("de_read_also", "related", "de", r"(?:Lesen Sie auch|Mehr dazu|Auch interessant|Mehr zum Thema)(?:\s?:\s?.{0,200})?"),
        ),
        "newsletter_line": (
            TextRule("de_newsletter_line", "newsletter", "de",
                     r"(?=.{0,300}$)(?=.*\b(?:Abonnieren Sie|Melden Sie sich|Jetzt (?:abonnieren|anmelden)|Abonniere)\b)"
                     r"(?=.*Newsletter).*"),
        ),
        "syndication": (
            TextRule("de_syndication", "syndication", "de", r"Dieser (?:Artikel|Beitrag) erschien (?:zuerst )?(?:auf|bei) .{1,80}"),
        ),
    },
)
