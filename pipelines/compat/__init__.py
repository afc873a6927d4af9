"""Every use of a library's private API, each behind a version check with the public API as the
fallback: an upgrade of trafilatura, langdetect or Scrapy may slow newsclean down, never stop it."""
