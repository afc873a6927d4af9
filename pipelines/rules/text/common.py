"""The language-independent line rules, the order the line rules apply in, and shared pattern pieces.

:data:`LAYOUT` is the table's order of application: a ``"*"`` rule stands at its own place, a
:class:`Slot` is where the rules each language module files under that slot's name go (languages in
their ``rank`` order, each language's rules in the order its module lists them). The order matters
where two rules of one table match the same whole line: the first one listed names the removal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pipelines.rules import TextRule

# number pieces, with French or English separators: 38 852,86 / 1,0864 / 5,306.04
NUM = r"\d{1,3}(?:[ .,]\d{3})*(?:[.,]\d+)?"
CHANGE = rf"[+\-−]\s?{NUM}\s?(?:\(\s?[+\-−]?\s?{NUM}\s?%\s?\)|%)"
AP = "['’]"
Q_OPEN = r"[«“\"]\s?"
Q_CLOSE = r"\s?[»”\"]"

# Market instruments as ticker widgets list them (bullet optional).
INDEXES = (
    r"Dow Jones|Nasdaq(?: 100| Composite)?|S&P 500|S&P/TSX|CAC 40|SBF 120|DAX(?: 40)?|FTSE(?: 100| MIB)?"
    r"|Euro Stoxx 50|Stoxx 600|IBEX 35|AEX|BEL 20|SMI|Nikkei(?: 225)?|Hang Seng|Shanghai Composite"
    r"|CSI 300|KOSPI|Sensex|ASX 200|Russell 2000|VIX|EUR/USD|USD/JPY|GBP/USD|EUR/GBP|USD/CHF"
    r"|Bitcoin(?: EUR| USD)?|Ethereum(?: EUR| USD)?|CMC Crypto 200|Brent|WTI|Gold|Or|Pétrole(?: brut)?"
    r"|Crude Oil|Silver|10-Yr Bond|Treasury 10Y"
)

#: Byline tails in every language (regex pieces): what follows the author name on a byline line.
BYLINE_TAILS: tuple[str, ...] = (r"\d{1,2}[/.]\d",)
#: Author separators in every language (literal marks): 'Léa Martin; Paul Roux'.
AUTHOR_SEPARATOR_MARKS: tuple[str, ...] = (";", "|", ",")


@dataclass(frozen=True)
class Slot:
    """A place in :data:`LAYOUT` where the language modules' rules of that name go."""

    name: str
    note: str = ""


@dataclass(frozen=True)
class Language:
    """Everything one language brings to the line rules and to the metadata.

    ``rules`` maps a :class:`Slot` name of :data:`LAYOUT` to the language's rules at that place.
    ``rank`` orders the languages inside a slot (it matters when the page's language is unknown
    and every language's rules apply). ``byline_prefixes`` are the words that open a byline
    ('Par', 'Écrit par'); ``byline_tails`` are regex pieces that start what follows the author name
    on a byline ('publié', ``le \\d``); ``author_separators`` are the words between two author
    names ('et').
    """

    code: str
    rank: int
    rules: Mapping[str, tuple[TextRule, ...]] = field(default_factory=dict)
    byline_prefixes: tuple[str, ...] = ()
    byline_tails: tuple[str, ...] = ()
    author_separators: tuple[str, ...] = ()


LAYOUT: tuple[TextRule | Slot, ...] = (
    # --- cookie_banner -----------------------------------------------------------------------
    Slot("consent", "consent notices, their buttons and blocked-embed placeholders"),
    # --- ticker ------------------------------------------------------------------------------
    Slot("market_state", "'La bourse est fermée', 'Markets closed'"),
    TextRule("ticker_instrument", "ticker", "*", rf"[•·▪\-]\s?(?:{INDEXES})",
             note="a bulleted instrument name alone on its line, as ticker widgets print them"),
    TextRule("ticker_instrument_bare", "ticker", "*", rf"(?:{INDEXES})", next_line="ticker",
             note="an instrument name alone, followed by its quote; alone it may be a sub-heading ('Or', 'Pétrole')"),
    TextRule("ticker_quote", "ticker", "*", rf"[+\-−]?{NUM}[.,]\d+|{NUM}[.,]\d+\s?(?:€|\$|pts|points)?",
             note="a bare quote with decimals; bare integers are share counts"),
    TextRule("ticker_change", "ticker", "*", rf"{CHANGE}"),
    TextRule("ticker_row", "ticker", "*", rf"[•·▪\-]?\s?(?:{INDEXES})\s{NUM}\s{CHANGE}"),
    # --- comment_form ------------------------------------------------------------------------
    Slot("comment_form", "comment headings, the e-mail notice, field labels"),
    TextRule("required_marker", "comment_form", "*", r"\*", case=True, note="a lone required-field star"),
    TextRule("comment_count_link", "comment_form", "*",
             r"(?:Voir|Lire|Afficher) (?:les |tous les )?\d+ (?:commentaires|réactions)|(?:View|Read|Show|See)(?: all)? \d+ comments?"
             r"|\d+ Kommentare? (?:lesen|anzeigen)|(?:Ver|Leer) (?:los )?\d+ comentarios",
             note="'Voir les 14 commentaires': the link to the comment thread"),
    # --- ad_label ----------------------------------------------------------------------------
    Slot("ad_label", "'Publicité', 'Advertisement' alone on their line"),
    TextRule("ad_label_any", "ad_label", "*", r"PUBLICITÉ|ADVERTISEMENT|ANZEIGE|PUBLICIDAD", case=True,
             note="upper-case slot labels, whatever the page language"),
    Slot("ad_continue", "'La suite après cette publicité'"),
    Slot("affiliate_notice", "affiliate-link disclosures"),
    # --- share_count -------------------------------------------------------------------------
    TextRule("bare_count", "share_count", "*", r"(?!(?:19|20)\d\d$)\d{1,3}(?:[ ,.]?\d{3})*|\d+(?:[.,]\d)?\s?[kK]",
             note="a bare integer on its own line: a share or comment counter; a year alone is a sub-heading"),
    Slot("share_label", "'Partager', 'Share on'"),
    TextRule("social_names", "share_count", "*",
             r"(?:Facebook|Twitter|X|LinkedIn|WhatsApp|Pinterest|Reddit|Flipboard|E-?mail|Copier le lien|Copy link)",
             case=True),
    Slot("follow_us", "'Follow us on Twitter', 'Email <author> at …'"),
    Slot("follow_prompt", "'suivez-nous sur Google Actualités'"),
    # --- breadcrumb --------------------------------------------------------------------------
    Slot("breadcrumb", "'Accueil > …', 'Home > …'"),
    # --- byline ------------------------------------------------------------------------------
    TextRule("agency_byline", "byline", "*",
             r"(?:(?:[\w.'’-]+ ){0,3}[\w.'’-]+ (?:avec|with|mit|con) )?(?:AFP|Reuters|AP|Associated Press|Belga|ATS"
             r"|DPA|dpa|EFE|ANSA|Bloomberg|Relaxnews)(?:\s?/\s?[\w ]{1,30})?",
             action="byline", case=True, note="'20 Minutes avec AFP', 'AFP'"),
    Slot("byline", "'Par Léa Martin', 'By Jane Doe', contributor credits"),
    # --- caption -----------------------------------------------------------------------------
    TextRule("photo_credit_line", "caption", "*",
             r".{0,300}\((?:Photo|Photos|Crédit|Credit|Image|Illustration)\s?:\s?[^)]{1,80}\)\.?",
             note="a caption ending with its credit: '… (Photo : AFP)'; '(source : Insee)' ends body sentences"),
    TextRule("credit_only", "caption", "*",
             r"(?:©|\(c\)|Crédits?(?: photo)?\s?:|Photo\s?:|Image\s?:|Credit\s?:|Illustration\s?:).{1,120}"),
    TextRule("credit_tail", "caption", "*",
             r".{1,200}[.!?]\s(?:Photo|Photos|Crédits?(?: photo)?|Credit|Image|Imagen|Bild|Foto|Illustration)\s?:\s?[^.:]{1,60}\.?",
             case=True, note="a short caption line ending with its credit: '… company. Image: screenshot'"),
    # --- related -----------------------------------------------------------------------------
    Slot("read_also", "'Lire aussi : <headline>' alone on its line"),
    Slot("more_stories", "related-links headings and 'Also on <site>' lines"),
    TextRule("bracketed_related", "related", "*",
             r"\[(?:Related|Read more|Read also|See also|Lire aussi|À lire aussi)\s?:.{1,200}\]"),
    Slot("tags", "a tag list under the article"),
    # --- newsletter --------------------------------------------------------------------------
    Slot("newsletter_prompt", "a sign-up verb first, then the newsletter or inbox"),
    Slot("newsletter_line", "a short line with a sign-up verb and the word newsletter, in either order"),
    # --- syndication -------------------------------------------------------------------------
    Slot("reprint", "reprint notices"),
    Slot("syndication", "'Article original publié sur …'"),
    # --- kicker (date lines) ------------------------------------------------------------------
    Slot("dateline", "'Publié le 23/11/16 à 07h41' left alone on its line"),
    # --- kicker (prefix residue) ---------------------------------------------------------------
    TextRule("reading_time", "kicker", "*",
             r"\d+ min(?:ute)?s? read|(?:Reading time|Tempo de leitura|Temps de lecture|Lesezeit|Tiempo de lectura)\s?:?\s?.{1,20}"),
    TextRule("date_residue_prefix", "kicker", "*", r"date \d{4}-\d{2}(?:-\d{2})?\s+", action="strip_prefix",
             case=True, note="'date 2023-01 ' left by a <time> label"),
    TextRule("glued_kicker_prefix", "kicker", "*",
             r"(?:[A-ZÀ-Ý&-]{5,}|TECH|AUTO|FOOT|CINÉ|MODE|JEUX|GOLF|SANTÉ)(?=[A-ZÀ-Ý][a-zà-ÿ’'])", action="strip_prefix",
             case=True, note="an upper-case section kicker glued to the next word: 'INTERNETPendant'; shorter runs"
             " are acronyms of identifiers ('HTMLElement'), except the usual four-letter sections"),
    # --- stray -------------------------------------------------------------------------------
    TextRule("lone_char", "stray", "*", r"[^\d\s]{1}|[^\w\s]{1,3}|[a-z]{1,2}", case=True,
             note="a lone letter or symbol left by an icon or an empty link"),
)
