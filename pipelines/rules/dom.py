"""Element rules, by category: what to remove from the page before extraction.

Class and id patterns match one whole class token or the whole id (see :class:`DomRule`), so a
rule names the widget, never a bare substring of it: ``cookie`` alone is not a rule, the consent
tools' names and the ``cookie-banner`` compounds are.
"""

from __future__ import annotations

from pipelines.rules import DomRule

# A class/id suffix: "-wrapper", "_container", "--open" … (one or more dash/underscore parts).
_SFX = r"(?:[-_]+[a-z0-9]+)*"

DOM_RULES: tuple[DomRule, ...] = (
    # --- cookie_banner -----------------------------------------------------------------------
    DomRule("consent_tool_class", "cookie_banner", "class",
            rf"(?:didomi|onetrust|ot-sdk|optanon|cookiebot|CybotCookiebot|qc-cmp2?|sp_message|sp-message"
            rf"|truste|trustarc|usercentrics|cmplz|axeptio|tarteaucitron|fc-consent){_SFX}",
            "consent-management platforms by name"),
    DomRule("consent_tool_id", "cookie_banner", "id",
            rf"(?:didomi|onetrust|ot-sdk|optanon|CybotCookiebot|cookiebot|qc-cmp2?|sp_message"
            rf"|truste|usercentrics|cmplz|axeptio|tarteaucitron){_SFX}",
            "consent-management platforms by id"),
    DomRule("consent_tool_camel", "cookie_banner", "class",
            r"(?:didomi|onetrust|optanon|CybotCookiebot|usercentrics|axeptio|tarteaucitron|iubenda|BorlabsCookie)\w*"
            rf"|cky[-_](?:consent|notice|modal|overlay|preference|banner){_SFX}|_brlbs{_SFX}",
            "the same tools' camel-case ids and classes (tarteaucitronRoot, CybotCookiebotDialog), CookieYes, "
            "iubenda, Borlabs Cookie"),
    DomRule("consent_tool_camel_id", "cookie_banner", "id",
            r"(?:didomi|onetrust|optanon|CybotCookiebot|usercentrics|axeptio|tarteaucitron|iubenda|BorlabsCookie)\w*"),
    DomRule("cookie_compound_class", "cookie_banner", "class",
            rf"(?:cookies?|consent|gdpr|rgpd)[-_]?(?:banner|notice|bar|wall|consent|popup|modal|overlay"
            rf"|placeholder|blocker|disclaimer|layer){_SFX}",
            "cookie-banner style compounds; never 'cookie' alone"),
    DomRule("cookie_compound_id", "cookie_banner", "id",
            rf"(?:cookies?|consent|gdpr|rgpd)[-_]?(?:banner|notice|bar|wall|consent|popup|modal|overlay"
            rf"|placeholder|blocker|layer){_SFX}"),
    DomRule("blocked_embed_placeholder", "cookie_banner", "class",
            rf"(?:embed|content|iframe|social)[-_]?(?:consent|blocked|placeholder[-_]consent){_SFX}",
            "placeholders left where a tweet or video embed was blocked until consent"),
    # --- ticker ------------------------------------------------------------------------------
    DomRule("ticker_class", "ticker", "class",
            rf"(?:(?:market|stock|quote|price|crypto|bourse)[-_]?)?(?:ticker|tickers){_SFX}",
            "ticker strips and their parts"),
    DomRule("market_widget_class", "ticker", "class",
            rf"(?:market[-_]?(?:data|summary|widget|strip|bar|overview)|stock[-_]?(?:quotes?|widget)"
            rf"|quote[-_]?(?:widget|strip)|bourse[-_]?(?:widget|strip)|finance[-_]?widget){_SFX}"),
    DomRule("quotes_widget_class", "ticker", "class",
            rf"(?:[a-z]{{1,2}}-)?(?:quotes|cours|markets)[-_](?:widget|strip|ticker|board){_SFX}",
            "quote widgets with a BEM namespace ('c-quotes-widget__value')"),
    DomRule("ticker_id", "ticker", "id",
            rf"(?:(?:market|stock|quote)[-_]?)?ticker{_SFX}|market[-_]?(?:data|summary){_SFX}|stock[-_]?quotes?{_SFX}"),
    # --- comment_form ------------------------------------------------------------------------
    DomRule("wp_respond", "comment_form", "id", r"respond|commentform|comments|disqus_thread|comment[-_]?section",
            "WordPress #respond / #commentform / #comments, Disqus"),
    DomRule("comment_form_class", "comment_form", "class",
            rf"(?:comment[-_]?(?:form|respond|reply|list|thread|section|area|s[-_]?area|s[-_]?section"
            rf"|s[-_]?list|s[-_]?wrapper|s[-_]?block)|commentlist|comments|comment-respond"
            rf"|comment-reply-title|comment-notes|logged-in-as|disqus){_SFX}"),
    DomRule("comment_form_tag", "comment_form", "xpath",
            "self::form[contains(@action, 'wp-comments-post') or contains(@action, '/comment')]", on=("form",)),
    # --- ad_label ----------------------------------------------------------------------------
    DomRule("ad_slot_class", "ad_label", "class",
            rf"(?:ad|ads|advert|advertisement|adsbygoogle|ad[-_]?(?:slot|unit|container|wrapper|label|banner"
            rf"|block|box|placeholder)|pub(?![-_]?(?:date|time))|publicite|dfp|gpt[-_]?ad|sponsor(?:ed)?[-_]?(?:label|content)?"
            rf"|taboola|outbrain|OUTBRAIN){_SFX}",
            "ad slots, ad labels and sponsored widgets ('pub-date' is a date, not a 'pub' slot)"),
    DomRule("ad_slot_id", "ad_label", "id",
            r"(?:ad|ads|advert|div-gpt-ad|google_ads|taboola|outbrain|pub)(?:[-_][-\w]*\w)?"),
    DomRule("ad_label_attr", "ad_label", "xpath", "self::*",
            on=("@data-ad", "@data-ad-slot", "@data-google-query-id", "@data-adunit")),
    # --- share_count -------------------------------------------------------------------------
    DomRule("share_bar_class", "share_count", "class",
            rf"(?:share|sharing)(?:[-_]?(?:bar|buttons?|tools?|links?|box|icons?|networks?|block|list|widget){_SFX})?"
            rf"|social[-_]?(?:bar|buttons?|share|sharing|links?|icons?|networks?|counts?|tools){_SFX}"
            rf"|sharedaddy|addtoany|a2a_kit|sharethis|shariff",
            "share bars and social buttons; 'share' with any other suffix ('share-price') is not one"),
    DomRule("share_count_class", "share_count", "class", rf"(?:[a-z]+[-_])?(?:share|shares)[-_]?counts?{_SFX}"),
    # --- breadcrumb --------------------------------------------------------------------------
    DomRule("breadcrumb_class", "breadcrumb", "class", rf"(?:breadcrumbs?|(?:[a-z]+[-_])?crumbs?|fil[-_]ariane|ariane){_SFX}",
            "'breadcrumb', and theme compounds such as 'entry-crumbs', 'td-crumb-container'"),
    DomRule("breadcrumb_id", "breadcrumb", "id", rf"(?:breadcrumbs?|fil[-_]ariane){_SFX}"),
    DomRule("breadcrumb_aria", "breadcrumb", "xpath",
            "self::*[@aria-label='breadcrumb' or @aria-label='Breadcrumb' or @aria-label=\"Fil d'Ariane\""
            " or @typeof='BreadcrumbList' or @itemtype='https://schema.org/BreadcrumbList'"
            " or @itemtype='http://schema.org/BreadcrumbList']", on=("@aria-label", "@typeof", "@itemtype")),
    # --- newsletter --------------------------------------------------------------------------
    DomRule("newsletter_class", "newsletter", "class",
            rf"(?:newsletter|nl)[-_]?(?:signup|sign-up|subscribe|box|form|block|inline|cta|promo|widget)?{_SFX}"
            rf"|subscribe[-_]?(?:box|form|cta|block){_SFX}",
            "newsletter sign-up boxes"),
    DomRule("paywall_class", "newsletter", "class",
            rf"(?:paywall[-_]?(?:banner|box|prompt|teaser|message|cta|offer|modal|overlay|promo|notice)"
            rf"|premium[-_]?(?:banner|box|wall|teaser)|subscription[-_]?(?:wall|box|banner|cta)){_SFX}",
            "paywall and subscription teasers; a bare 'paywall' class wraps the gated article text itself"),
    DomRule("newsletter_form_box", "newsletter", "xpath",
            "self::form[.//input[@type='email'] and not(.//textarea)]/ancestor-or-self::*"
            "[self::form or self::div or self::section or self::aside]"
            "[count(.//p) <= 4 and not(.//p[string-length(normalize-space(.)) > 200])]",
            "the small box around an e-mail sign-up form, whatever its class (comment forms have a textarea)",
            on=("form",)),
    # --- related -----------------------------------------------------------------------------
    DomRule("related_class", "related", "class",
            rf"(?:related|read[-_]?also|lire[-_]?aussi|a[-_]?lire|see[-_]?also|more[-_]?stories|also[-_]?read"
            rf"|recommended|recommandations?|yarpp|jp-relatedposts|crp_related|inline[-_]?related){_SFX}",
            "'read also' and related-article blocks"),
    DomRule("related_id", "related", "id",
            rf"(?:related|read[-_]?also|lire[-_]?aussi|jp-relatedposts|yarpp){_SFX}"),
    DomRule("related_aside", "related", "xpath",
            "self::aside[.//a and not(.//p[string-length(normalize-space(.)) > 200])]",
            "asides made of links", on=("aside",)),
    DomRule("hovercard_class", "related", "class",
            r"(?:rollover|hover[-_]?card|tooltip|popover)(?:[-_]+[a-z]+)*[-_]+(?:block|content|body|card|inner|panel)",
            "the hidden card a linked name opens on hover (portrait, bio, their latest headlines); the name stays"),
    # --- byline ------------------------------------------------------------------------------
    DomRule("author_box_class", "byline", "class",
            rf"(?:author[-_]?(?:box|bio|card|info|block|profile)|about[-_]?(?:the[-_]?)?author"
            rf"|byline|article[-_]?byline|post[-_]?author|signature|author[-_]?sign(?:ature)?|auteur){_SFX}",
            "author boxes and bylines (the author goes to the 'authors' field, from the metadata)"),
    DomRule("author_rel", "byline", "xpath",
            "self::*[self::address[@class or @rel='author'] or (@rel='author' and not(self::a))]",
            on=("address", "@rel")),
    # --- caption -----------------------------------------------------------------------------
    DomRule("figcaption", "caption", "xpath", "self::*", "figure captions and their credits", on=("figcaption",)),
    DomRule("credit_class", "caption", "class",
            rf"(?:photo|image|img|media|wp-caption)?[-_]?(?:credits?|copyright|caption|legende|légende)"
            rf"(?:[-_]?text)?{_SFX}|wp-caption-text"),
    # --- syndication -------------------------------------------------------------------------
    DomRule("syndication_class", "syndication", "class",
            rf"(?:syndication|source[-_]?(?:line|note|originale?)|original[-_]?source|republish(?:ed)?"
            rf"|article[-_]?source|partner[-_]?source){_SFX}"),
    # --- kicker ------------------------------------------------------------------------------
    DomRule("dateline_class", "kicker", "class",
            rf"(?:datetime|dateline|timestamp|date[-_]?(?:line|published|publication|time|info)"
            rf"|(?:post|entry|article|publish(?:ed)?|pub)[-_]?(?:date|time|datetime)|posted[-_]?on){_SFX}",
            "the 'Publié le …' / 'Published …' line; the date goes to metadata"),
    DomRule("kicker_class", "kicker", "class",
            rf"(?:kicker|surtitre|overline|eyebrow|article[-_]?(?:category|rubrique)|post[-_]?category"
            rf"|rubrique){_SFX}",
            "section labels above the headline; the section goes to metadata"),
)
