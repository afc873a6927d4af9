"""Reading inputs (files, folders, globs, WARC, JSONL, stdin lists) and writing JSONL records."""
