#!/usr/bin/env bash
# The main job on the embedded default: install, crawl the demo site (served on 127.0.0.1 for the
# crawl's duration), then clean the saved pages shipped in fixtures/ offline.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
mkdir -p output
.venv/bin/scrapy crawl news -a site=demo -s NEWSCLEAN_STATE_DIR=output/demo-state -o output/demo/crawl.jsonl
.venv/bin/newsclean clean fixtures/samples/text fixtures/offline -o output/offline.jsonl
echo "records: output/demo/crawl.jsonl ($(wc -l < output/demo/crawl.jsonl) lines)," \
     "output/offline.jsonl ($(wc -l < output/offline.jsonl) lines)"
