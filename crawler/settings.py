"""Settings of the newsclean crawl (``scrapy crawl news -a site=NAME``). Polite by default.

Our own settings are prefixed ``NEWSCLEAN_``; see ``docs/crawl.md`` for each.
"""

from pipelines import exit_codes

BOT_NAME = "newsclean"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# our `scrapy crawl`: checks -a site / -a since and conflicting settings before starting (exit 2),
# and exits 4 or 5 when nothing or too little could be fetched (docs/exit-codes.md)
COMMANDS_MODULE = "crawler.commands"

# -- who we are: set NEWSCLEAN_CONTACT (a URL or an e-mail address) once ----------------------
NEWSCLEAN_CONTACT = "https://github.com/newsclean/newsclean"
# %(contact)s is replaced by NEWSCLEAN_CONTACT; the spider sets USER_AGENT from this unless
# USER_AGENT itself is given on the command line.
NEWSCLEAN_USER_AGENT = "newsclean/0.1 (news archiving crawler; +%(contact)s)"
USER_AGENT = "newsclean/0.1 (news archiving crawler; +https://github.com/newsclean/newsclean)"

# -- politeness --------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
# a robots.txt is read up to its first 500 KiB (whole lines), as Google does: the rules it starts
# with hold however large it is (crawler/bounds.py)
ROBOTSTXT_PARSER = "crawler.bounds.CappedRobotParser"
NEWSCLEAN_ROBOTSTXT_MAX_BYTES = 500 * 1024
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
NEWSCLEAN_BACKOFF_ENABLED = True
NEWSCLEAN_BACKOFF_HTTP_CODES = [429, 503]
NEWSCLEAN_BACKOFF_MAX_DELAY = 60.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# DOWNLOAD_MAXSIZE counts the body only: a response's status line and headers are capped too
NEWSCLEAN_MAX_HEADER_BYTES = 256 * 1024
NEWSCLEAN_MAX_HEADER_LINES = 500
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port: a scheduled crawl needs none
# offsite filtering (OffsiteMiddleware) uses the profiles' allowed_domains: on by default
# host names resolving to non-public addresses are refused unless the profile allows them
TWISTED_DNS_RESOLVER = "crawler.safety.SafeResolver"
# Scrapy's HTTP/1.1 handler, keeping the connections it opened (pipelines/compat/scrapy.py)
DOWNLOAD_HANDLERS = {
    "http": "pipelines.compat.scrapy.KeepAliveDownloadHandler",
    "https": "pipelines.compat.scrapy.KeepAliveDownloadHandler",
}
NEWSCLEAN_SAFETY_ENABLED = True  # never turn off on a shared machine
# exit code 5 when more than this share of the requests failed (pipelines/exit_codes.py)
NEWSCLEAN_MAX_FAILURE_SHARE = exit_codes.DEFAULT_MAX_FAILURE_SHARE

# -- the pipeline ------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SeenArticleMiddleware": 50,
    # after OffsiteMiddleware (50): non-http(s) schemes, offsite even with dont_filter, literal
    # private / loopback / metadata addresses and hosts the resolver refused (crawler/safety.py)
    "crawler.safety.SafeRequestMiddleware": 60,
    # below RetryMiddleware (550): counts each request once, when settled, failures by kind
    # (newsclean/download/...); the exit code is judged on them (crawler/outcomes.py)
    "crawler.outcomes.DownloadOutcomeMiddleware": 540,
    # Scrapy's, stopping at DOWNLOAD_MAXSIZE while unpacking, with gzip bombs counted
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.safety.CountedHttpCompressionMiddleware": 590,
    "crawler.middlewares.BackoffMiddleware": 560,  # just above RetryMiddleware (550) on the way back
    # Scrapy's meta refresh redirects, reading only the start of a page (crawler/middlewares.py)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 580,
    # nearest the downloader: counts every attempt a response's headers passed the cap
    "crawler.bounds.HeaderCapMiddleware": 950,
    # a robots.txt is read up to NEWSCLEAN_ROBOTSTXT_MAX_BYTES; above HttpCompressionMiddleware
    # (590) so that unpacking it keeps DOWNLOAD_MAXSIZE
    "crawler.bounds.RobotsTxtCap": 595,
}
ITEM_PIPELINES = {
    "pipelines.item_pipelines.CleanPipeline": 300,
    "pipelines.item_pipelines.LanguagePipeline": 400,
    "pipelines.item_pipelines.DedupPipeline": 900,  # last: what it lets through is written
}
EXTENSIONS = {
    "crawler.extensions.CrawlSummary": 500,
    "crawler.extensions.GcTuning": 0,
}
# shared mode: set NEWSCLEAN_REDIS_URL (setting or environment) to share the crawl between
# workers through Redis (docs/shared-crawl.md); unset, this add-on changes nothing
ADDONS = {"crawler.shared.SharedCrawl": 0}
# The spider yields at most one item per response (a raw page), so items of one response need no
# parallelism; Scrapy's default (100) starts 100 asyncio tasks for every response (measured in
# docs/speed.md). Responses are still processed concurrently, each with its own task.
CONCURRENT_ITEMS = 1
NEWSCLEAN_POOL_SIZE = None  # cleaning workers: None = one per usable core, 0 = in the crawl's process
NEWSCLEAN_POOL_START_METHOD = "forkserver"
NEWSCLEAN_STATE_ENABLED = True
# None: state/ in the current folder (scrapy crawl runs in the project folder); or a folder, or redis://...
NEWSCLEAN_STATE_DIR = None
NEWSCLEAN_SKIP_SEEN = True
NEWSCLEAN_DEMO_PORT = 8642  # the demo site's port on 127.0.0.1 (a free one if taken)
NEWSCLEAN_LANGUAGES: list[str] = []  # e.g. ["fr", "en"]: drop records in other languages
# the cleaner's limits and switches (pipelines.core.cleaner.CleanOptions, one setting per field;
# the values are its defaults, the flags of newsclean clean have the same names)
NEWSCLEAN_MAX_PAGE_BYTES = 10_000_000
NEWSCLEAN_MAX_ELEMENTS = 200_000
NEWSCLEAN_TIME_LIMIT = 20.0
NEWSCLEAN_MIN_WORDS = 1
NEWSCLEAN_DEBUG = False
NEWSCLEAN_FAVOR_PRECISION = False
NEWSCLEAN_EXTRACTION_MODE = "precision"
NEWSCLEAN_EXTENSIVE_DATES = False
NEWSCLEAN_LANGUAGE_SAMPLE = 1000
NEWSCLEAN_SINGLE_CANDIDATE = False  # True: trafilatura's text as it is (pipelines/core/candidates.py)

# -- output: JSON lines through Feed exports ---------------------------------------------------
FEED_EXPORTERS = {
    "jsonl": "pipelines.feedexport.JsonLinesExporter",
    "jsonlines": "pipelines.feedexport.JsonLinesExporter",
}
# The default feed when neither -o/-O nor FEEDS is given (the spider applies it).
NEWSCLEAN_FEED_URI = "output/%(name)s/%(time)s.jsonl"
FEED_STORE_EMPTY = False
FEED_EXPORT_ENCODING = "utf-8"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
