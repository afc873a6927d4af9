"""Site profiles: one declarative TOML file per site in ``crawler/sites/``.

A profile names the site, its allowed domains, where discovery starts and which URLs are
articles. Keys (all optional but ``name`` and ``base_url``)::

    name = "numerama"                 # the file's stem, what `-a site=` takes
    base_url = "https://www.numerama.com"
    allowed_domains = ["numerama.com"]
    language = "fr"                   # expected language, informative
    robots_sitemaps = true            # read the Sitemap: lines of /robots.txt
    sitemaps = ["/sitemap_index.xml"] # sitemaps or sitemap indexes (Google News sitemaps too)
    feeds = ["/feed/"]                # RSS 2.0 or Atom feeds
    sections = ["/tech/"]             # section pages: links are followed to follow_depth
    article_allow = ['/\\d{4}/\\d{2}/\\d{2}/']   # regexes (re.search) an article URL must match
    article_deny = ['/video/']        # regexes that exclude a URL matched by article_allow
    follow_allow = ['/tech/page/\\d+'] # non-article pages worth following from sections
    follow_depth = 1                  # link hops from a section page
    serve = "fixtures/demo_site/site" # demo only: serve this folder on 127.0.0.1 during the crawl
    allow_private_addresses = false   # true, or ["127.0.0.1", "10.1.0.0/16"]: non-public addresses
                                      # this site's hosts may resolve to (crawler/safety.py)
    [settings]                        # Scrapy settings applied when this site is crawled alone

Relative sources are joined to ``base_url``. No Scrapy import here.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

SITES_DIR = Path(__file__).resolve().parent / "sites"
PROJECT_DIR = Path(__file__).resolve().parents[1]
_KNOWN = {
    "name", "base_url", "allowed_domains", "language", "robots_sitemaps", "sitemaps", "feeds", "sections",
    "article_allow", "article_deny", "follow_allow", "follow_depth", "serve", "settings", "description",
    "allow_private_addresses",
}


class ProfileError(ValueError):
    """A profile file is invalid, or a site name is unknown."""


@dataclass(frozen=True)
class SiteProfile:
    name: str
    base_url: str
    allowed_domains: tuple[str, ...] = ()
    language: str | None = None
    description: str = ""
    robots_sitemaps: bool = True
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    article_allow: tuple[str, ...] = ()
    article_deny: tuple[str, ...] = ()
    follow_allow: tuple[str, ...] = ()
    follow_depth: int = 1
    serve: str | None = None
    allow_private_addresses: bool | tuple[str, ...] = False
    settings: dict[str, Any] = field(default_factory=dict)
    _allow: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _deny: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _follow: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "_allow", tuple(re.compile(p) for p in self.article_allow))
            object.__setattr__(self, "_deny", tuple(re.compile(p) for p in self.article_deny))
            object.__setattr__(self, "_follow", tuple(re.compile(p) for p in self.follow_allow))
        except re.error as exc:
            raise ProfileError(f"site {self.name!r}: bad regex: {exc}") from exc

    # -- URLs ----------------------------------------------------------------------------------
    def url(self, source: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", source)

    def robots_url(self) -> str:
        return self.url("/robots.txt")

    def is_article(self, url: str) -> bool:
        """Matches an allow pattern (any URL if there is none) and no deny pattern."""
        if not self.on_site(url):
            return False
        if self._allow and not any(p.search(url) for p in self._allow):
            return False
        return not any(p.search(url) for p in self._deny)

    def is_followable(self, url: str) -> bool:
        return self.on_site(url) and any(p.search(url) for p in self._follow)

    def on_site(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        domains = self.allowed_domains or (urlsplit(self.base_url).hostname or "",)
        return any(host == d or host.endswith("." + d) for d in domains)

    def with_base_url(self, base_url: str) -> SiteProfile:
        """The same profile on another origin (the demo site's served port)."""
        host = urlsplit(base_url).hostname or ""
        return replace(self, base_url=base_url, allowed_domains=(host,))


def load_profile(path: str | Path) -> SiteProfile:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: {exc}") from exc
    unknown = set(data) - _KNOWN
    if unknown:
        raise ProfileError(f"{path}: unknown keys {sorted(unknown)}")
    if "base_url" not in data:
        raise ProfileError(f"{path}: base_url is required")
    data.setdefault("name", path.stem)
    if data["name"] != path.stem:
        raise ProfileError(f"{path}: name {data['name']!r} differs from the file name")
    for key in ("allowed_domains", "sitemaps", "feeds", "sections", "article_allow", "article_deny", "follow_allow"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(f"{path}: {key} must be a list of strings")
        data[key] = tuple(value)
    allow = data.get("allow_private_addresses", False)
    if isinstance(allow, list) and all(isinstance(v, str) for v in allow):
        allow = data["allow_private_addresses"] = tuple(allow)
        for network in allow:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ProfileError(f"{path}: allow_private_addresses: {exc}") from exc
    elif not isinstance(allow, bool):
        raise ProfileError(f"{path}: allow_private_addresses must be true, false or a list of networks")
    if not isinstance(data.get("follow_depth", 1), int) or data.get("follow_depth", 1) < 0:
        raise ProfileError(f"{path}: follow_depth must be a non-negative integer")
    return SiteProfile(**data)


def available_sites(directory: Path = SITES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


def resolve_sites(spec: str, directory: Path = SITES_DIR) -> list[SiteProfile]:
    """``"demo"``, ``"a,b"`` or ``"all"`` (every profile but the demo) to profiles."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not Path(directory).is_dir():
        raise ProfileError(f"{directory}: no such folder of site profiles")
    known = available_sites(directory)
    if not names:
        raise ProfileError(
            f"no site given: use -a site=NAME[,NAME...] (known: {', '.join(known)}) or -a site=all"
        )
    if names == ["all"]:
        names = [n for n in known if n != "demo"]
    missing = [n for n in names if n not in known]
    if missing:
        raise ProfileError(f"unknown site(s) {', '.join(missing)}; known: {', '.join(known)}")
    return [load_profile(directory / f"{n}.toml") for n in dict.fromkeys(names)]
