#!/bin/sh
# bench/filter.sh: keyword filtering speed (issue 4), the matcher against a
# naive substring scan, on generated arXiv papers and subscriptions.
#
# Usage: sh bench/filter.sh SCRATCH-DIR [N-PAPERS] [REPEAT]
#   N-PAPERS defaults to 50000, REPEAT (runs per K, median) to 3.
#   ROUNDS (default 3) in the environment: how many times every K is run
#   in turn; the figures are medians over the rounds.
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
ROUNDS=${ROUNDS:-3}
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

# Rounds: each round runs every K once (a process per K, R runs of the
# matcher in it), the K in turn, so that the ratio to the first K compares
# runs made a few seconds apart: the machine's speed drifts by tens of
# percent within a minute, and one process per K, all of a K's runs
# together, once put K = 10 in a fast minute and K = 10,000 in a slow one
# (3.08 x in one run, 2.27 x in the next).  The naive scan runs in the
# first round only.
for r in $(seq 1 "$ROUNDS"); do
	for k in $KS; do
		echo "running K=$k (round $r of $ROUNDS)" >&2
		np=""
		[ "$r" = 1 ] || np="--naive-pairs 0"
		# shellcheck disable=SC2086
		$pin "$D/filter_bench" "$D/atom-$N.xml" "$D/subs-$k.tsv" \
			--repeat "$R" $np > "$D/result-$k-$r.txt"
	done
done

# key=value lines -> table.  match s: the median over the rounds; "x first
# K": the median over the rounds of the round's ratio to the first K; the
# naive scan and the memory figures: the first round's.
for r in $(seq 1 "$ROUNDS"); do
	for k in $KS; do printf 'round=%s ' "$r"; cat "$D/result-$k-$r.txt"; done
done | awk '
function v(key,   i, kv) {
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == key)
			return kv[2]
	}
	return ""
}
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN {
	print "| K rows | subscribers | build s | match s (CPU) | match s (wall) | matches | x first K | naive s | naive / matcher | terms | states | matcher MiB (RSS) | peak RSS MiB |"
	print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
}
{
	r = v("round"); k = v("rows")
	if (r == 1) {
		order[++nk] = k
		line[k] = $0
	}
	if (!(r in base))
		base[r] = v("match_s")
	ms[k, r] = v("match_s"); mw[k, r] = v("match_wall_s")
	if (r > nr)
		nr = r
}
END {
	for (i = 1; i <= nk; i++) {
		k = order[i]
		for (r = 1; r <= nr; r++) {
			a[r] = ms[k, r]; b[r] = mw[k, r]; c[r] = ms[k, r] / base[r]
		}
		m = median(a, nr); w = median(b, nr); x = median(c, nr)
		$0 = line[k]
		printf "| %s | %s | %s | %.4f | %.4f | %s | %.2f | %s (%s papers) | %.0f | %s | %s | %s | %s |\n", \
		    v("rows"), v("subscribers"), v("build_s"), m, w, \
		    v("matches"), x, v("naive_s"), v("naive_papers"), \
		    v("naive_s") / m, v("terms"), v("states"), \
		    v("rss_matcher_mib"), v("peak_rss_mib")
	}
}'
echo
first=$(echo "$KS" | awk '{print $1}')
rss=$(tr ' ' '\n' < "$D/result-$first-1.txt" | sed -n 's/^rss_papers_mib=//p')
echo "papers: $N, rounds: $ROUNDS (K in turn; median over the rounds), runs per K in a round: $R (median), RSS with the papers loaded: $rss MiB"
