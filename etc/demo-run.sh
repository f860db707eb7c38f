#!/bin/sh
# make run: one paperwatch cycle on the demo config, then show the result.
# usage: demo-run.sh BINARY CONFIG
set -eu
bin=$1
conf=$2
root=$(cd "$(dirname "$conf")/.." && pwd)
rm -rf "$root/demo"
mkdir -p "$root/demo"
echo "== paperwatch once -c $conf"
"$bin" once -c "$conf"
echo
echo "== the 'llm' digest in the Markdown form (paperwatch preview):"
"$bin" -q preview -c "$conf" llm --format markdown \
	--source-file "$root/tests/fixtures/hf-daily/daily_papers_2026-06-12.json"
echo
n=$(grep -c '^From ' "$root/demo/digests.mbox" 2>/dev/null || true)
echo "== $n digests delivered to $root/demo/digests.mbox"
echo "   read them with:  mutt -f demo/digests.mbox   (or any mail reader)"
echo "   run it again:    $bin once -c $conf   (delivers nothing new: all seen)"
