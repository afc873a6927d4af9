"""The Scrapy project: settings, the ``news`` spider, site profiles and the demo site server."""
