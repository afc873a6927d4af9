"""This project's Scrapy commands (``COMMANDS_MODULE``): ``crawl`` replaces Scrapy's own."""
