#!/bin/sh
# bench/filter.sh: keyword filtering speed (issue 4), the matcher against a
# naive substring scan, on generated arXiv papers and subscriptions.
#
# Usage: sh bench/filter.sh SCRATCH-DIR [N-PAPERS] [REPEAT]
#   N-PAPERS defaults to 50000, REPEAT (runs per K, median) to 3.
#   K (subscription rows) is 10, 1,000, 10,000 and 100,000; override with
#   KS="10 1000" in the environment.
#
# Generates (once; kept in SCRATCH-DIR) atom-N.xml with
# bench/gen/gen_arxiv_atom.py and subs-K.tsv with
# bench/gen/gen_subscriptions.py, builds build/libpaperwatch.a (make) and
# SCRATCH-DIR/filter_bench (cc -O2), runs it pinned to one CPU when taskset
# exists, and prints a table.  Times are CPU seconds of the single-threaded
# process (the wall clock of the matcher is shown too: on a shared machine
# it includes other processes' turns).  The naive scan runs over as many
# papers as keep papers x rows under 2e7 and is scaled to all papers.
set -eu

[ $# -ge 1 ] || { echo "usage: sh bench/filter.sh SCRATCH-DIR [N] [REPEAT]" >&2; exit 2; }
D=$1
N=${2:-50000}
R=${3:-3}
KS=${KS:-"10 1000 10000 100000"}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
PY=/usr/bin/python3
PKGS="libesmtp-1.0 openssl libcurl libxml-2.0 libconfig jansson sqlite3 libsystemd"

mkdir -p "$D"
if [ ! -s "$D/atom-$N.xml" ]; then
	echo "generating $N papers" >&2
	$PY "$here/gen/gen_arxiv_atom.py" "$N" -o "$D/atom-$N.xml.tmp"
	mv "$D/atom-$N.xml.tmp" "$D/atom-$N.xml"
fi
for k in $KS; do
	if [ ! -s "$D/subs-$k.tsv" ]; then
		echo "generating $k subscription rows" >&2
		$PY "$here/gen/gen_subscriptions.py" "$k" -o "$D/subs-$k.tsv.tmp"
		mv "$D/subs-$k.tsv.tmp" "$D/subs-$k.tsv"
	fi
done

make -s -C "$top" build/libpaperwatch.a >&2
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$top" \
	-o "$D/filter_bench" "$here/filter_bench.c" "$top/build/libpaperwatch.a" \
	$(pkg-config --libs $PKGS) -lm

pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"

for k in $KS; do
	echo "running K=$k" >&2
	$pin "$D/filter_bench" "$D/atom-$N.xml" "$D/subs-$k.tsv" --repeat "$R" \
		> "$D/result-$k.txt"
done

# key=value lines -> table; the first K is the base of the "x first K" column
for k in $KS; do cat "$D/result-$k.txt"; done | awk '
function v(key,   i, kv) {
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == key)
			return kv[2]
	}
	return ""
}
BEGIN {
	print "| K rows | subscribers | build s | match s (CPU) | match s (wall) | matches | x first K | naive s | naive / matcher | terms | states | matcher MiB (RSS) | peak RSS MiB |"
	print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
}
{
	m = v("match_s")
	if (base == "")
		base = m
	printf "| %s | %s | %s | %s | %s | %s | %.2f | %s (%s papers) | %.0f | %s | %s | %s | %s |\n", \
	    v("rows"), v("subscribers"), v("build_s"), m, v("match_wall_s"), \
	    v("matches"), m / base, v("naive_s"), v("naive_papers"), \
	    v("naive_s") / m, v("terms"), v("states"), v("rss_matcher_mib"), \
	    v("peak_rss_mib")
}'
echo
first=$(echo "$KS" | awk '{print $1}')
rss=$(tr ' ' '\n' < "$D/result-$first.txt" | sed -n 's/^rss_papers_mib=//p')
echo "papers: $N, runs per K: $R (median), RSS with the papers loaded: $rss MiB"
