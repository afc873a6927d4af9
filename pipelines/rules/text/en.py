"""English: line rules, byline words and author separators."""

from __future__ import annotations

from pipelines.rules import TextRule
from pipelines.rules.text.common import Language

# A reported statement, not a banner: a line with an attribution verb is a sentence of the article.
SAID = r".*\b(?:said|says|told|according to|wrote|admitted|argued|explained|added|insisted|acknowledged)\b"

LANGUAGE = Language(
    code="en",
    rank=2,
    byline_prefixes=("By", "Written by"),
    byline_tails=("published", "updated", "posted", "on [A-Z]"),
    author_separators=("and",),
    rules={
        "consent": (
            TextRule("en_we_use_cookies", "cookie_banner", "en",
                     rf"(?=(?:This (?:site|website)|We) uses? cookies)(?!{SAID})"
                     r"(?:This (?:site|website)|We) uses? cookies.{0,300}(?:accept|consent|privacy policy|learn more"
                     r"|cookie policy|settings)\W*"),
            TextRule("en_consent_buttons", "cookie_banner", "en",
                     r"(?:Accept|Reject|Allow) (?:all )?cookies|Manage (?:cookie )?(?:preferences|settings|consent)"
                     r"|Cookie (?:settings|preferences)|Do not sell my personal information"),
            TextRule("en_consent_blocked", "cookie_banner", "en",
                     r"This content is (?:blocked|not available|hosted by a third party)\b.{0,200}(?:consent|cookies|accept).{0,200}",
                     note="'This content is blocked. Accept cookies … to view this content'"),
        ),
        "market_state": (
            TextRule("market_closed_en", "ticker", "en", r"(?:U\.S\. )?Markets? (?:closed|open)\.?|Markets are (?:closed|open)\.?"),
        ),
        "comment_form": (
            TextRule("en_comment_heading", "comment_form", "en",
                     r"Leave a (?:Reply|Comment)|Post a comment|Add a comment|\d+ Comments?|Comments?(?: \(\d+\))?"
                     r"|Cancel reply|Join the conversation|Reply"),
            TextRule("en_comment_email", "comment_form", "en",
                     r"Your email address will not be published\.?.*|Required fields are marked \*\.?"),
            TextRule("en_comment_fields", "comment_form", "en",
                     r"(?:Name|Email|Website|Comment)\s?\*?|Save my name, email, and website in this browser.*"),
        ),
        "ad_label": (
            TextRule("en_ad_label", "ad_label", "en", r"Advertisement|Advertising|Sponsored(?: content)?|Ad|Promoted"),
        ),
        "ad_continue": (
            TextRule("en_ad_continue", "ad_label", "en",
                     r"Skip advertisement|(?:Story|Article) continues below(?: this)? (?:advertisement|ad)|Advertisement\s?[-–—]\s?Scroll to continue"
                     r"|Continue reading (?:below|after (?:the|this) (?:ad|advertisement))|Ad Feedback"),
        ),
        "affiliate_notice": (
            TextRule("en_affiliate_notice", "ad_label", "en",
                     r"(?=.{0,300}$)(?=.*\b(?:we|I) (?:may |might |could )?(?:earn|receive|get)\b)(?=.*\b(?:commissions?|affiliate)\b).*"),
        ),
        "share_label": (
            TextRule("en_share_label", "share_count", "en",
                     r"(?:\d+\s)?(?:shares?|Share(?: (?:on|this|this article|this story))?(?: \w+)?|Tweet|Pin it|Email)"),
        ),
        "follow_us": (
            TextRule("en_follow_us", "share_count", "en",
                     r"(?:Follow|Like|Join) (?:us|him|her|them|[\w@.'’ ]{1,50}) on (?:Twitter|Facebook|Instagram|LinkedIn|YouTube|X)\b.{0,200}"
                     r"|Follow (?:AP['’]s|our) (?:full |complete )?coverage .{1,200}"
                     r"|(?:Email|Contact|Reach) [\w .'’-]{1,60} (?:at|on|via) .{0,200}(?:@|Twitter).{0,200}|Have a (?:news )?tip\?.{0,300}"
                     r"|Like this (?:story|article)\?.{0,100}",
                     note="'Follow us on Twitter', 'Email <author> at …', 'Like this story? Share it'"),
        ),
        "follow_prompt": (
            TextRule("en_follow_prompt", "share_count", "en",
                     r"(?:(?:To (?:never|not) miss|Don['’]t miss|Never miss|Stay (?:up to date|informed|in the loop))[^,]{0,80}, )?"
                     r"(?:follow|join) us on .{1,120}"),
        ),
        "breadcrumb": (
            TextRule("en_breadcrumb", "breadcrumb", "en", r"Home\s?[|>›»/].*"),
        ),
        "byline": (
            TextRule("en_by_byline", "byline", "en",
                     r"By\s[A-Z][\w'’.-]+(?:\s(?:[A-Z][\w'’.-]+|and|&|,)){0,6}(?:\s?[|,-]\s?(?:published|updated).*)?",
                     action="byline", case=True),
            TextRule("en_contributors", "byline", "en",
                     r"\(?(?:Additional )?[Rr]eporting by .{1,300}|.{1,250} contributed (?:reporting|to this (?:report|story|article))"
                     r"(?: from [^.]{1,80})?\.?|(?:[\w.'’-]+ ){1,3}(?:writers?|reporters?|correspondents?) .{1,250} contributed\.?",
                     note="'(Reporting by …; Editing by …)', '… contributed to this report.'"),
        ),
        "read_also": (
            TextRule("en_read_also", "related", "en", r"(?:Read (?:also|more|next)|Related|See also|Also read)(?:\s?:\s?.{0,200})?"),
        ),
        "more_stories": (
            TextRule("en_more_stories", "related", "en",
                     r"(?:See more|More|Also|Don['’]t miss|You (?:may|might) also like|Recommended(?: for you)?|Most read(?: in [\w ]{1,30})?"
                     r"|Most popular|Trending(?: now)?|More (?:from|on) [\w .'’-]{1,40}|More stories|Top stories"
                     r"|Related (?:posts?|articles?|stories|coverage|content|reading)"
                     r"|.{10,200}(?-i:\[(?:INSIGHT|VIDEO|REACTION|NEWS|WARNING|PICTURES|PICS|POLL|ANALYSIS|REVEALED|EXPLAINED)\]))"
                     r"(?:\s?[:|.…]+\s?.{0,200})?",
                     note="a related-links heading, or one with its headline: 'DON'T MISS', 'SEE MORE: <headline>',"
                          " a headline tagged '[VIDEO]'"),
            TextRule("en_also_on_site", "related", "en", r"Also on [\w-]+\.\w{2,}\s.{1,200}", case=True,
                     note="'Also on rt.com <headline>'"),
        ),
        "tags": (
            TextRule("tags_line", "related", "en", r"(?:Filed under|Tags|Tagged(?: with)?|Topics)(?:\s?:\s?.{0,200})?",
                     note="a tag list under the article"),
        ),
        "newsletter_prompt": (
            TextRule("en_newsletter_line", "newsletter", "en",
                     r"(?:[^.!?]{0,80}[.!?] )?(?:Sign up|Subscribe|Get|Want|Don['’]t miss|Never miss|Stay up to date|Start your day)\b.{0,200}"
                     r"\b(?:newsletters?|inbox|mailing list)\b.{0,120}",
                     note="'Subscribe to our newsletter', 'Get the latest … in your inbox'"),
        ),
        "reprint": (
            TextRule("en_reprint_notice", "syndication", "en", r"This copy is for your personal,? non-commercial use only.{0,300}"),
        ),
        "syndication": (
            TextRule("en_syndication", "syndication", "en",
                     r"(?:This (?:article|story) (?:was |is )?(?:originally )?(?:published|appeared) (?:on|in|by)"
                     r"|Originally published (?:on|at|in)) .{1,80}"),
        ),
        "dateline": (
            TextRule("en_dateline", "kicker", "en",
                     r"(?:Published|Updated|Posted|Last updated|PUBLISHED|UPDATED)(?: on| at)?(?>\s?(?:[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}"
                     r"|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}:\d{2}(?: ?[ap]\.?m\.?)?|[A-Z]{2,4}"
                     r"|at|on|,|\||-|updated|Updated|\d+ (?:min|mins|minutes|hours?|days?) ago))*\.?",
                     case=True),
        ),
    },
)
