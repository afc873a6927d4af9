"""newsclean: news pages in, clean article records out.

The cleaning core (``pipelines.core.cleaner`` and the modules it imports) never imports Scrapy; the
Scrapy adapters live in ``pipelines.item_pipelines`` and ``pipelines.feedexport``.
"""

__version__ = "0.1.0"
