"""French: line rules, byline words and author separators."""

from __future__ import annotations

from pipelines.rules import TextRule
from pipelines.rules.text.common import AP, Q_CLOSE, Q_OPEN, Language

# A reported statement, not a banner: a line with an attribution verb is a sentence of the article.
SAID = (
    r".*\b(?:a|ont|avait|avaient) (?:reconnu|déclaré|expliqué|indiqué|affirmé|assuré|fait valoir|précisé|ajouté"
    r"|souligné|estimé|répondu|admis)\b|.*\b(?:selon|explique|reconnaît|affirme|assure|souligne|déclare|précise)\b"
)

LANGUAGE = Language(
    code="fr",
    rank=1,
    byline_prefixes=("Par", "Écrit par"),
    byline_tails=("publié", "mis à jour", r"le \d"),
    author_separators=("et",),
    rules={
        "consent": (
            TextRule("fr_consent_blocked", "cookie_banner", "fr",
                     rf"L{AP}accès à ce contenu a été bloqué afin de respecter votre choix de consentement\.?"),
            TextRule("fr_consent_click", "cookie_banner", "fr",
                     rf"En cliquant sur\s?{Q_OPEN}J{AP}accepte{Q_CLOSE}\s?, vous acceptez le dépôt de cookies"
                     rf" par des services externes.*"),
            TextRule("fr_consent_more_info", "cookie_banner", "fr",
                     rf"Plus d{AP}informations sur la page\s?Politique de gestion des cookies\.?"),
            TextRule("fr_consent_generic", "cookie_banner", "fr",
                     rf"(?=(?:Ce site|Notre site|Nous) utilis)(?!{SAID})"
                     r"(?:Ce site|Notre site|Nous) utilis(?:e|ons) des cookies.{0,300}(?:accepte[rz]?|consentement"
                     r"|paramétr\w+|en savoir plus)\W*|Gérer (?:mes|vos) (?:choix|cookies|préférences)"
                     r"|(?:Tout )?(?:accepter|refuser)(?: et (?:fermer|continuer))?|Paramétrer les cookies"),
        ),
        "market_state": (
            TextRule("market_closed", "ticker", "fr", r"La bourse est (?:fermée|ouverte)\.?|Marchés? (?:fermés?|ouverts?)"),
        ),
        "comment_form": (
            TextRule("fr_comment_heading", "comment_form", "fr",
                     r"(?:Publier|Laisser|Ajouter|Écrire) un commentaire|Réagir(?: à cet article)?|Commentaires?(?: \(\d+\))?"
                     r"|\d+ commentaires?|Répondre|Annuler la réponse"),
            TextRule("fr_comment_email", "comment_form", "fr",
                     r"Votre adresse (?:e-?mail|de messagerie|courriel) ne sera pas publiée.*"),
            TextRule("fr_comment_fields", "comment_form", "fr",
                     r"(?:Les )?champs obligatoires sont indiqués avec \*\.?|(?:Nom|Pseudo|E-?mail|Site web|Commentaire)\s?\*?"
                     r"|Enregistrer mon nom, mon e-?mail et mon site dans le navigateur.*"),
        ),
        "ad_label": (
            TextRule("fr_ad_label", "ad_label", "fr", r"Publicité|Pub|Annonce|Contenu sponsorisé|Sponsorisé"),
        ),
        "ad_continue": (
            TextRule("fr_ad_continue", "ad_label", "fr",
                     rf"(?:La suite|Lire la suite|L{AP}article continue|Suite de l{AP}article) (?:après|ci-dessous|sous) (?:cette|la) (?:publicité|annonce)\.?"),
        ),
        "affiliate_notice": (
            TextRule("fr_affiliate_notice", "ad_label", "fr",
                     r"(?=.{0,300}$)(?=.*\bnous (?:pouvons |pourrions )?(?:percevoir|toucher|recevoir)\b)(?=.*\bcommissions?\b).*",
                     note="affiliate-link disclosures: 'nous pouvons percevoir une commission si vous achetez via ces liens'"),
        ),
        "share_label": (
            TextRule("fr_share_label", "share_count", "fr",
                     r"(?:\d+\s)?(?:partages?|Partager(?: (?:sur|l['’]article|cet article))?(?: \w+)?)"),
        ),
        "follow_prompt": (
            TextRule("fr_follow_prompt", "share_count", "fr",
                     r"(?:Pour ne (?:rien|rater|manquer|louper) [^,]{1,80}, )?(?:suivez|rejoignez|retrouvez)[- ]nous (?:sur|via) .{1,120}",
                     note="'Pour ne rater aucune actualité, suivez-nous sur Google Actualités'"),
        ),
        "breadcrumb": (
            TextRule("fr_breadcrumb", "breadcrumb", "fr", r"Accueil\s?[|>›»/].*"),
        ),
        "byline": (
            TextRule("fr_par_byline", "byline", "fr",
                     r"Par\s[A-ZÀ-Ý][\w'’.-]+(?:\s(?:[A-ZÀ-Ý][\w'’.-]+|de|du|van|von|et|,)){0,6}(?:\s?[|,-]\s?(?:publié|mis à jour).*)?",
                     action="byline", case=True),
        ),
        "read_also": (
            TextRule("fr_read_also", "related", "fr", r"(?:À |A )?(?:lire|voir) (?:aussi|également)(?:\s?[:|]\s?.{0,200})?",
                     note="'Lire aussi : <headline>' alone on its line"),
        ),
        "newsletter_line": (
            TextRule("fr_newsletter_line", "newsletter", "fr",
                     r"(?=.{0,300}$)(?=.*\b(?:abonnez-vous|inscrivez-vous|abonne-toi|inscris-toi)\b)"
                     r"(?=.*\b(?:newsletters?|lettres? d['’]information)\b).*",
                     note="a short line that asks to sign up to a newsletter, in either order"),
        ),
        "syndication": (
            TextRule("fr_syndication", "syndication", "fr",
                     r"(?:Article|Cet article a été) (?:original(?:ement)? )?publié (?:sur|par|initialement sur) [\w.-]+\.\w{2,}\.?"),
        ),
        "dateline": (
            TextRule("fr_dateline", "kicker", "fr",
                     r"(?:Publié|Mis à jour|Modifié|Actualisé)(?: le| à| il y a)?(?:\s?(?:\d{1,2}(?:er)?[ /.-](?:\d{1,2}|[a-zéû]+\.?)"
                     r"[ /.-]\d{2,4}|\d{1,2}\s?[h:]\s?\d{2}|à|le|,|\||-|mis à jour|\d+ (?:min|minutes?|heures?|h|jours?)))*\.?",
                     note="'Publié le 23/11/16 à 07h41' left by a <time> line; a sentence never matches whole"),
        ),
    },
)
