"""Line rules on extracted text, per language.

A ``drop`` pattern must match a whole line: a sentence that merely *mentions* cookies or the
CAC 40 is never touched. Apostrophes and quotes are matched in both their typographic and ASCII
forms, and non-breaking spaces count as spaces (lines are matched after
:func:`pipelines.core.line_rules.match_form`).
"""

from __future__ import annotations

from pipelines.rules import TextRule

# number pieces, with French or English separators: 38 852,86 / 1,0864 / 5,306.04
_NUM = r"\d{1,3}(?:[ .,]\d{3})*(?:[.,]\d+)?"
_CHANGE = rf"[+\-−]\s?{_NUM}\s?(?:\(\s?[+\-−]?\s?{_NUM}\s?%\s?\)|%)"
_AP = "['’]"
_Q_OPEN = r"[«“\"]\s?"
_Q_CLOSE = r"\s?[»”\"]"

# A reported statement, not a banner: a line with an attribution verb is a sentence of the article.
_FR_SAID = (
    r".*\b(?:a|ont|avait|avaient) (?:reconnu|déclaré|expliqué|indiqué|affirmé|assuré|fait valoir|précisé|ajouté"
    r"|souligné|estimé|répondu|admis)\b|.*\b(?:selon|explique|reconnaît|affirme|assure|souligne|déclare|précise)\b"
)
_EN_SAID = r".*\b(?:said|says|told|according to|wrote|admitted|argued|explained|added|insisted|acknowledged)\b"

# Market instruments as ticker widgets list them (bullet optional).
_INDEXES = (
    r"Dow Jones|Nasdaq(?: 100| Composite)?|S&P 500|S&P/TSX|CAC 40|SBF 120|DAX(?: 40)?|FTSE(?: 100| MIB)?"
    r"|Euro Stoxx 50|Stoxx 600|IBEX 35|AEX|BEL 20|SMI|Nikkei(?: 225)?|Hang Seng|Shanghai Composite"
    r"|CSI 300|KOSPI|Sensex|ASX 200|Russell 2000|VIX|EUR/USD|USD/JPY|GBP/USD|EUR/GBP|USD/CHF"
    r"|Bitcoin(?: EUR| USD)?|Ethereum(?: EUR| USD)?|CMC Crypto 200|Brent|WTI|Gold|Or|Pétrole(?: brut)?"
    r"|Crude Oil|Silver|10-Yr Bond|Treasury 10Y"
)

TEXT_RULES: tuple[TextRule, ...] = (
    # --- cookie_banner -----------------------------------------------------------------------
    TextRule("fr_consent_blocked", "cookie_banner", "fr",
             rf"L{_AP}accès à ce contenu a été bloqué afin de respecter votre choix de consentement\.?"),
    TextRule("fr_consent_click", "cookie_banner", "fr",
             rf"En cliquant sur\s?{_Q_OPEN}J{_AP}accepte{_Q_CLOSE}\s?, vous acceptez le dépôt de cookies"
             rf" par des services externes.*"),
    TextRule("fr_consent_more_info", "cookie_banner", "fr",
             rf"Plus d{_AP}informations sur la page\s?Politique de gestion des cookies\.?"),
    TextRule("fr_consent_generic", "cookie_banner", "fr",
             rf"(?=(?:Ce site|Notre site|Nous) utilis)(?!{_FR_SAID})"
             r"(?:Ce site|Notre site|Nous) utilis(?:e|ons) des cookies.{0,300}(?:accepte[rz]?|consentement"
             r"|paramétr\w+|en savoir plus)\W*|Gérer (?:mes|vos) (?:choix|cookies|préférences)"
             r"|(?:Tout )?(?:accepter|refuser)(?: et (?:fermer|continuer))?|Paramétrer les cookies"),
    TextRule("en_we_use_cookies", "cookie_banner", "en",
             rf"(?=(?:This (?:site|website)|We) uses? cookies)(?!{_EN_SAID})"
             r"(?:This (?:site|website)|We) uses? cookies.{0,300}(?:accept|consent|privacy policy|learn more"
             r"|cookie policy|settings)\W*"),
    TextRule("en_consent_buttons", "cookie_banner", "en",
             r"(?:Accept|Reject|Allow) (?:all )?cookies|Manage (?:cookie )?(?:preferences|settings|consent)"
             r"|Cookie (?:settings|preferences)|Do not sell my personal information"),
    TextRule("en_consent_blocked", "cookie_banner", "en",
             r"This content is (?:blocked|not available|hosted by a third party)\b.{0,200}(?:consent|cookies|accept).{0,200}",
             note="'This content is blocked. Accept cookies … to view this content'"),
    TextRule("de_consent", "cookie_banner", "de",
             r"(?:Wir|Diese Website) (?:verwende[nt]|nutz(?:t|en)) Cookies.{0,300}|Alle akzeptieren"
             r"|Cookie-Einstellungen|Externer Inhalt.{0,200}(?:Einwilligung|Zustimmung|akzeptieren)\W*"),
    TextRule("es_consent", "cookie_banner", "es",
             r"(?:Este sitio|Utilizamos|Usamos) (?:web )?(?:utiliza )?cookies.{0,300}|Aceptar (?:todas las )?cookies"
             r"|Configuración de cookies"),
    # --- ticker ------------------------------------------------------------------------------
    TextRule("market_closed", "ticker", "fr", r"La bourse est (?:fermée|ouverte)\.?|Marchés? (?:fermés?|ouverts?)"),
    TextRule("market_closed_en", "ticker", "en", r"(?:U\.S\. )?Markets? (?:closed|open)\.?|Markets are (?:closed|open)\.?"),
    TextRule("ticker_instrument", "ticker", "*", rf"[•·▪\-]\s?(?:{_INDEXES})",
             note="a bulleted instrument name alone on its line, as ticker widgets print them"),
    TextRule("ticker_instrument_bare", "ticker", "*", rf"(?:{_INDEXES})", next_line="ticker",
             note="an instrument name alone, followed by its quote; alone it may be a sub-heading ('Or', 'Pétrole')"),
    TextRule("ticker_quote", "ticker", "*", rf"[+\-−]?{_NUM}[.,]\d+|{_NUM}[.,]\d+\s?(?:€|\$|pts|points)?",
             note="a bare quote with decimals; bare integers are share counts"),
    TextRule("ticker_change", "ticker", "*", rf"{_CHANGE}"),
    TextRule("ticker_row", "ticker", "*", rf"[•·▪\-]?\s?(?:{_INDEXES})\s{_NUM}\s{_CHANGE}"),
    # --- comment_form ------------------------------------------------------------------------
    TextRule("fr_comment_heading", "comment_form", "fr",
             r"(?:Publier|Laisser|Ajouter|Écrire) un commentaire|Réagir(?: à cet article)?|Commentaires?(?: \(\d+\))?"
             r"|\d+ commentaires?|Répondre|Annuler la réponse"),
    TextRule("fr_comment_email", "comment_form", "fr",
             r"Votre adresse (?:e-?mail|de messagerie|courriel) ne sera pas publiée.*"),
    TextRule("fr_comment_fields", "comment_form", "fr",
             r"(?:Les )?champs obligatoires sont indiqués avec \*\.?|(?:Nom|Pseudo|E-?mail|Site web|Commentaire)\s?\*?"
             r"|Enregistrer mon nom, mon e-?mail et mon site dans le navigateur.*"),
    TextRule("en_comment_heading", "comment_form", "en",
             r"Leave a (?:Reply|Comment)|Post a comment|Add a comment|\d+ Comments?|Comments?(?: \(\d+\))?"
             r"|Cancel reply|Join the conversation|Reply"),
    TextRule("en_comment_email", "comment_form", "en",
             r"Your email address will not be published\.?.*|Required fields are marked \*\.?"),
    TextRule("en_comment_fields", "comment_form", "en",
             r"(?:Name|Email|Website|Comment)\s?\*?|Save my name, email, and website in this browser.*"),
    TextRule("required_marker", "comment_form", "*", r"\*", case=True, note="a lone required-field star"),
    TextRule("de_comment", "comment_form", "de",
             r"(?:Kommentar (?:schreiben|verfassen)|Schreibe einen Kommentar|Deine E-Mail-Adresse wird nicht"
             r" veröffentlicht.*|Erforderliche Felder sind mit \* markiert\.?)"),
    TextRule("es_comment", "comment_form", "es",
             r"(?:Deja un comentario|Dejar un comentario|Tu dirección de correo electrónico no será publicada.*"
             r"|Los campos obligatorios están marcados con \*\.?)"),
    TextRule("comment_count_link", "comment_form", "*",
             r"(?:Voir|Lire|Afficher) (?:les |tous les )?\d+ (?:commentaires|réactions)|(?:View|Read|Show|See)(?: all)? \d+ comments?"
             r"|\d+ Kommentare? (?:lesen|anzeigen)|(?:Ver|Leer) (?:los )?\d+ comentarios",
             note="'Voir les 14 commentaires': the link to the comment thread"),
    # --- ad_label ----------------------------------------------------------------------------
    TextRule("fr_ad_label", "ad_label", "fr", r"Publicité|Pub|Annonce|Contenu sponsorisé|Sponsorisé"),
    TextRule("en_ad_label", "ad_label", "en", r"Advertisement|Advertising|Sponsored(?: content)?|Ad|Promoted"),
    TextRule("de_ad_label", "ad_label", "de", r"Anzeige|Werbung"),
    TextRule("es_ad_label", "ad_label", "es", r"Publicidad|Anuncio"),
    TextRule("ad_label_any", "ad_label", "*", r"PUBLICITÉ|ADVERTISEMENT|ANZEIGE|PUBLICIDAD", case=True,
             note="upper-case slot labels, whatever the page language"),
    TextRule("fr_ad_continue", "ad_label", "fr",
             rf"(?:La suite|Lire la suite|L{_AP}article continue|Suite de l{_AP}article) (?:après|ci-dessous|sous) (?:cette|la) (?:publicité|annonce)\.?"),
    TextRule("en_ad_continue", "ad_label", "en",
             r"Skip advertisement|(?:Story|Article) continues below(?: this)? (?:advertisement|ad)|Advertisement\s?[-–—]\s?Scroll to continue"
             r"|Continue reading (?:below|after (?:the|this) (?:ad|advertisement))|Ad Feedback"),
    TextRule("de_ad_continue", "ad_label", "de",
             r"Weiterlesen nach der Anzeige|(?:Der )?Artikel (?:wird )?(?:nach|unter) der Anzeige (?:fortgesetzt|weitergeführt)|Artikel geht nach der Anzeige weiter"),
    TextRule("es_ad_continue", "ad_label", "es",
             r"Sigue leyendo (?:tras|después de) la publicidad|(?:La noticia|El artículo) continúa (?:tras|después de) la publicidad"),
    TextRule("fr_affiliate_notice", "ad_label", "fr",
             r"(?=.{0,300}$)(?=.*\bnous (?:pouvons |pourrions )?(?:percevoir|toucher|recevoir)\b)(?=.*\bcommissions?\b).*",
             note="affiliate-link disclosures: 'nous pouvons percevoir une commission si vous achetez via ces liens'"),
    TextRule("en_affiliate_notice", "ad_label", "en",
             r"(?=.{0,300}$)(?=.*\b(?:we|I) (?:may |might |could )?(?:earn|receive|get)\b)(?=.*\b(?:commissions?|affiliate)\b).*"),
    TextRule("de_affiliate_notice", "ad_label", "de",
             r"(?=.{0,300}$)(?=.*\b(?:Affiliate|Partner)-?Links?\b)(?=.*\bProvision\b).*"),
    TextRule("es_affiliate_notice", "ad_label", "es",
             r"(?=.{0,300}$)(?=.*\benlaces? de afiliad[oa]s?\b)(?=.*\bcomisi[oó]n\b).*"),
    # --- share_count -------------------------------------------------------------------------
    TextRule("bare_count", "share_count", "*", r"(?!(?:19|20)\d\d$)\d{1,3}(?:[ ,.]?\d{3})*|\d+(?:[.,]\d)?\s?[kK]",
             note="a bare integer on its own line: a share or comment counter; a year alone is a sub-heading"),
    TextRule("fr_share_label", "share_count", "fr",
             r"(?:\d+\s)?(?:partages?|Partager(?: (?:sur|l['’]article|cet article))?(?: \w+)?)"),
    TextRule("en_share_label", "share_count", "en",
             r"(?:\d+\s)?(?:shares?|Share(?: (?:on|this|this article|this story))?(?: \w+)?|Tweet|Pin it|Email)"),
    TextRule("social_names", "share_count", "*",
             r"(?:Facebook|Twitter|X|LinkedIn|WhatsApp|Pinterest|Reddit|Flipboard|E-?mail|Copier le lien|Copy link)",
             case=True),
    TextRule("en_follow_us", "share_count", "en",
             r"(?:Follow|Like|Join) (?:us|him|her|them|[\w@.'’ ]{1,50}) on (?:Twitter|Facebook|Instagram|LinkedIn|YouTube|X)\b.{0,200}"
             r"|Follow (?:AP['’]s|our) (?:full |complete )?coverage .{1,200}"
             r"|(?:Email|Contact|Reach) [\w .'’-]{1,60} (?:at|on|via) .{0,200}(?:@|Twitter).{0,200}|Have a (?:news )?tip\?.{0,300}"
             r"|Like this (?:story|article)\?.{0,100}",
             note="'Follow us on Twitter', 'Email <author> at …', 'Like this story? Share it'"),
    TextRule("fr_follow_prompt", "share_count", "fr",
             r"(?:Pour ne (?:rien|rater|manquer|louper) [^,]{1,80}, )?(?:suivez|rejoignez|retrouvez)[- ]nous (?:sur|via) .{1,120}",
             note="'Pour ne rater aucune actualité, suivez-nous sur Google Actualités'"),
    TextRule("en_follow_prompt", "share_count", "en",
             r"(?:(?:To (?:never|not) miss|Don['’]t miss|Never miss|Stay (?:up to date|informed|in the loop))[^,]{0,80}, )?"
             r"(?:follow|join) us on .{1,120}"),
    TextRule("de_follow_prompt", "share_count", "de", r"(?:Folgen|Abonnieren) Sie uns (?:auf|bei) .{1,120}"),
    TextRule("es_follow_prompt", "share_count", "es", r"Síguenos en .{1,120}"),
    # --- breadcrumb --------------------------------------------------------------------------
    TextRule("fr_breadcrumb", "breadcrumb", "fr", r"Accueil\s?[|>›»/].*"),
    TextRule("en_breadcrumb", "breadcrumb", "en", r"Home\s?[|>›»/].*"),
    TextRule("de_breadcrumb", "breadcrumb", "de", r"Startseite\s?[|>›»/].*"),
    TextRule("es_breadcrumb", "breadcrumb", "es", r"(?:Inicio|Portada)\s?[|>›»/].*"),
    # --- byline ------------------------------------------------------------------------------
    TextRule("agency_byline", "byline", "*",
             r"(?:(?:[\w.'’-]+ ){0,3}[\w.'’-]+ (?:avec|with|mit|con) )?(?:AFP|Reuters|AP|Associated Press|Belga|ATS"
             r"|DPA|dpa|EFE|ANSA|Bloomberg|Relaxnews)(?:\s?/\s?[\w ]{1,30})?",
             action="byline", case=True, note="'20 Minutes avec AFP', 'AFP'"),
    TextRule("fr_par_byline", "byline", "fr",
             r"Par\s[A-ZÀ-Ý][\w'’.-]+(?:\s(?:[A-ZÀ-Ý][\w'’.-]+|de|du|van|von|et|,)){0,6}(?:\s?[|,-]\s?(?:publié|mis à jour).*)?",
             action="byline", case=True),
    TextRule("en_by_byline", "byline", "en",
             r"By\s[A-Z][\w'’.-]+(?:\s(?:[A-Z][\w'’.-]+|and|&|,)){0,6}(?:\s?[|,-]\s?(?:published|updated).*)?",
             action="byline", case=True),
    TextRule("en_contributors", "byline", "en",
             r"\(?(?:Additional )?[Rr]eporting by .{1,300}|.{1,250} contributed (?:reporting|to this (?:report|story|article))"
             r"(?: from [^.]{1,80})?\.?|(?:[\w.'’-]+ ){1,3}(?:writers?|reporters?|correspondents?) .{1,250} contributed\.?",
             note="'(Reporting by …; Editing by …)', '… contributed to this report.'"),
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
    TextRule("fr_read_also", "related", "fr", r"(?:À |A )?(?:lire|voir) (?:aussi|également)(?:\s?[:|]\s?.{0,200})?",
             note="'Lire aussi : <headline>' alone on its line"),
    TextRule("en_read_also", "related", "en", r"(?:Read (?:also|more|next)|Related|See also|Also read)(?:\s?:\s?.{0,200})?"),
    TextRule("de_read_also", "related", "de", r"(?:Lesen Sie auch|Mehr dazu|Auch interessant|Mehr zum Thema)(?:\s?:\s?.{0,200})?"),
    TextRule("es_read_also", "related", "es", r"(?:Te puede interesar|Lee también|Relacionado|Leer más)(?:\s?:\s?.{0,200})?"),
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
    TextRule("bracketed_related", "related", "*",
             r"\[(?:Related|Read more|Read also|See also|Lire aussi|À lire aussi)\s?:.{1,200}\]"),
    TextRule("tags_line", "related", "en", r"(?:Filed under|Tags|Tagged(?: with)?|Topics)(?:\s?:\s?.{0,200})?",
             note="a tag list under the article"),
    TextRule("en_newsletter_line", "newsletter", "en",
             r"(?:[^.!?]{0,80}[.!?] )?(?:Sign up|Subscribe|Get|Want|Don['’]t miss|Never miss|Stay up to date|Start your day)\b.{0,200}"
             r"\b(?:newsletters?|inbox|mailing list)\b.{0,120}",
             note="'Subscribe to our newsletter', 'Get the latest … in your inbox'"),
    TextRule("fr_newsletter_line", "newsletter", "fr",
             r"(?=.{0,300}$)(?=.*\b(?:abonnez-vous|inscrivez-vous|abonne-toi|inscris-toi)\b)"
             r"(?=.*\b(?:newsletters?|lettres? d['’]information)\b).*",
             note="a short line that asks to sign up to a newsletter, in either order"),
    TextRule("de_newsletter_line", "newsletter", "de",
             r"(?=.{0,300}$)(?=.*\b(?:Abonnieren Sie|Melden Sie sich|Jetzt (?:abonnieren|anmelden)|Abonniere)\b)"
             r"(?=.*Newsletter).*"),
    TextRule("es_newsletter_line", "newsletter", "es",
             r"(?=.{0,300}$)(?=.*\b(?:Suscríbete|Suscríbase|Apúntate|Regístrate)\b)(?=.*\b(?:newsletter|boletín)\b).*"),
    # --- syndication -------------------------------------------------------------------------
    TextRule("en_reprint_notice", "syndication", "en", r"This copy is for your personal,? non-commercial use only.{0,300}"),
    TextRule("fr_syndication", "syndication", "fr",
             r"(?:Article|Cet article a été) (?:original(?:ement)? )?publié (?:sur|par|initialement sur) [\w.-]+\.\w{2,}\.?"),
    TextRule("en_syndication", "syndication", "en",
             r"(?:This (?:article|story) (?:was |is )?(?:originally )?(?:published|appeared) (?:on|in|by)"
             r"|Originally published (?:on|at|in)) .{1,80}"),
    TextRule("de_syndication", "syndication", "de", r"Dieser (?:Artikel|Beitrag) erschien (?:zuerst )?(?:auf|bei) .{1,80}"),
    TextRule("es_syndication", "syndication", "es",
             r"(?:Este artículo|Artículo) (?:fue )?publicado originalmente (?:en|por) .{1,80}"),
    # --- kicker (date lines) ------------------------------------------------------------------
    TextRule("fr_dateline", "kicker", "fr",
             r"(?:Publié|Mis à jour|Modifié|Actualisé)(?: le| à| il y a)?(?:\s?(?:\d{1,2}(?:er)?[ /.-](?:\d{1,2}|[a-zéû]+\.?)"
             r"[ /.-]\d{2,4}|\d{1,2}\s?[h:]\s?\d{2}|à|le|,|\||-|mis à jour|\d+ (?:min|minutes?|heures?|h|jours?)))*\.?",
             note="'Publié le 23/11/16 à 07h41' left by a <time> line; a sentence never matches whole"),
    TextRule("en_dateline", "kicker", "en",
             r"(?:Published|Updated|Posted|Last updated|PUBLISHED|UPDATED)(?: on| at)?(?>\s?(?:[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}"
             r"|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}:\d{2}(?: ?[ap]\.?m\.?)?|[A-Z]{2,4}"
             r"|at|on|,|\||-|updated|Updated|\d+ (?:min|mins|minutes|hours?|days?) ago))*\.?",
             case=True),
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
