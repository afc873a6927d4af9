#!/usr/bin/env bash
# The main job on the embedded default: install (base install, pinned versions), crawl the demo
# site (served on 127.0.0.1 for the crawl's duration), then clean the saved pages shipped in
# fixtures/ offline. NEWSCLEAN_DEMO_OUT names the output folder (default output/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
install_pinned .
out=${NEWSCLEAN_DEMO_OUT:-output}
mkdir -p "$out/demo"
crawl="$out/demo/crawl.jsonl"
before=0
[ -f "$crawl" ] && before=$(wc -l < "$crawl")
"$VENV/bin/scrapy" crawl news -a site=demo -s NEWSCLEAN_STATE_DIR="$out/demo-state" -o "$crawl"
after=0
[ -f "$crawl" ] && after=$(wc -l < "$crawl")
"$VENV/bin/newsclean" clean fixtures/samples/text fixtures/offline -o "$out/offline.jsonl" --force
echo "crawl: $((after - before)) new articles written to $crawl ($after in all; the state in $out/demo-state" \
     "keeps every run to articles not seen before)"
echo "offline: $(wc -l < "$out/offline.jsonl") records in $out/offline.jsonl"
