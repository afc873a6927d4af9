"""Spanish: line rules, byline words and author separators."""

from __future__ import annotations

from pipelines.rules import TextRule
from pipelines.rules.text.common import Language

LANGUAGE = Language(
    code="es",
    rank=4,
    byline_prefixes=("Por",),
    rules={
        "consent": (
            TextRule("es_consent", "cookie_banner", "es",
                     r"(?:Este sitio|Utilizamos|Usamos) (?:web )?(?:utiliza )?cookies.{0,300}|Aceptar (?:todas las )?cookies"
                     r"|Configuración de cookies"),
        ),
        "comment_form": (
            TextRule("es_comment", "comment_form", "es",
                     r"(?:Deja un comentario|Dejar un comentario|Tu dirección de correo electrónico no será publicada.*"
                     r"|Los campos obligatorios están marcados con \*\.?)"),
        ),
        "ad_label": (
            TextRule("es_ad_label", "ad_label", "es", r"Publicidad|Anuncio"),
        ),
        "ad_continue": (
            TextRule("es_ad_continue", "ad_label", "es",
                     r"Sigue leyendo (?:tras|después de) la publicidad|(?:La noticia|El artículo) continúa (?:tras|después de) la publicidad"),
        ),
        "affiliate_notice": (
            TextRule("es_affiliate_notice", "ad_label", "es",
                     r"(?=.{0,300}$)(?=.*\benlaces? de afiliad[oa]s?\b)(?=.*\bcomisi[oó]n\b).*"),
        ),
        "follow_prompt": (
            TextRule("es_follow_prompt", "share_count", "es", r"Síguenos en .{1,120}"),
        ),
        "breadcrumb": (
            TextRule("es_breadcrumb", "breadcrumb", "es", r"(?:Inicio|Portada)\s?[|>›»/].*"),
        ),
        "read_also": (
            TextRule("es_read_also", "related", "es", r"(?:Te puede interesar|Lee también|Relacionado|Leer más)(?:\s?:\s?.{0,200})?"),
        ),
        "newsletter_line": (
            TextRule("es_newsletter_line", "newsletter", "es",
                     r"(?=.{0,300}$)(?=.*\b(?:Suscríbete|Suscríbase|Apúntate|Regístrate)\b)(?=.*\b(?:newsletter|boletín)\b).*"),
        ),
        "syndication": (
            TextRule("es_syndication", "syndication", "es",
                     r"(?:Este artículo|Artículo) (?:fue )?publicado originalmente (?:en|por) .{1,80}"),
        ),
    },
)
