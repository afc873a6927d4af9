"""The crawl's spiders: one generic ``news`` spider driven by site profiles."""
