#!/bin/sh
# tests/fuzz/run.sh SECONDS: build every libFuzzer target (make fuzz-build),
# make seed corpora from the fixtures, run each target for SECONDS, copy
# every crash, leak, timeout or out-of-memory input into
# tests/fuzz/regressions/TARGET/ (replayed by make check) and print one
# line per target: seconds, executions, exec/s, final cov/ft, findings.
# Exits 1 if any target found something (or did not run), 0 otherwise.
#
# Environment: FUZZ_TARGETS="feed query" runs only those; FUZZ_BUILD
# (default build-fuzz) holds binaries, seeds, corpora, logs; FUZZ_JOBS
# (default 2) is make's -j.  Everything made at run time is under
# FUZZ_BUILD, so a clean clone works.
set -u
seconds=${1:-60}
case $seconds in
''|*[!0-9]*|0) echo "usage: $0 SECONDS (a positive integer)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
fb=${FUZZ_BUILD:-build-fuzz}
fx=tests/fixtures
here=tests/fuzz
py=/usr/bin/python3
# Stacks for UBSan reports too; LeakSanitizer is on by default.
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# Third-party leaks we cannot fix (each explained in the file).
export LSAN_OPTIONS="suppressions=$root/$here/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# --- build -------------------------------------------------------------
mk="make"
if ! make -n fuzz-build >/dev/null 2>&1; then
	mk="make -f Makefile -f $here/fuzz.mk"	# top Makefile without the include
fi
if ! $mk --no-print-directory -j"${FUZZ_JOBS:-2}" FUZZ_BUILD="$fb" \
    fuzz-build; then
	echo "fuzz: build failed" >&2
	exit 2
fi

all=$(for f in "$here"/fuzz_*.c; do
	n=${f##*/fuzz_}; echo "${n%.c}"
done)
targets=${FUZZ_TARGETS:-$all}

# --- per-target settings ------------------------------------------------
max_len() {
	case $1 in
	arxiv_api|arxiv_rss|hf_daily|feed|sniff) echo 16384 ;;
	query) echo 4200 ;;		# just over QUERY_MAX_LEN
	mail_header) echo 2048 ;;
	*) echo 8192 ;;
	esac
}

dict() {
	case $1 in
	arxiv_api|arxiv_rss) echo "$here/xml.dict" ;;
	hf_daily) echo "$here/json.dict" ;;
	feed|sniff) cat "$here/xml.dict" "$here/json.dict" \
	    >"$fb/feed+json.dict"; echo "$fb/feed+json.dict" ;;
	config) echo "$here/config.dict" ;;
	query) echo "$here/query.dict" ;;
	render) echo "$here/mustache.dict" ;;
	*) echo "" ;;
	esac
}

# Copy files $2... into seed dir $1, cut to the target's max_len.
seed() {
	d=$1; shift
	for f in "$@"; do
		[ -f "$f" ] || continue
		head -c "$len" "$f" >"$d/$(echo "$f" | tr '/' '_')"
	done
}

# Small valid JSON documents cut out of the big captures (the whole HF
# page is 166 KB: cut to max_len it would only be a broken prefix).
json_seeds() {
	[ -x "$py" ] || return 0
	"$py" - "$1" "$2" <<'EOF'
import json, sys, os
out, which = sys.argv[1], sys.argv[2]
if which == "hf":
    doc = json.load(open("tests/fixtures/hf-daily/daily_papers_2026-06-12.json"))
    for i in range(0, 6, 2):
        with open(os.path.join(out, "hf_%d.json" % i), "w") as f:
            json.dump(doc[i:i + 2], f)
EOF
}

# The render target (tests/fuzz/fuzz_render.c): an even first byte means
# "the rest is a template"; odd, "the rest is a value".
render_seeds() {
	for f in templates/*.mustache; do
		[ -f "$f" ] || continue
		{ printf '\002'; head -c "$len" "$f"; } >"$1/tpl_${f##*/}"
	done
	printf '\001a "quoted" <b> & \\ value\n\t\342\200\250' >"$1/value_1"
	[ -x "$py" ] || return 0
	"$py" - "$1" <<'EOF'
import json, glob, os, sys
out = sys.argv[1]
for spec in sorted(glob.glob("tests/fixtures/mustache-spec/*.json")):
    base = os.path.basename(spec)[:-5]
    for i, t in enumerate(json.load(open(spec))["tests"]):
        with open(os.path.join(out, "spec_%s_%d" % (base, i)), "wb") as f:
            f.write(b"\x02" + t["template"].encode())
EOF
}

make_seeds() {
	t=$1; d=$fb/seeds/$t
	rm -rf "$d"; mkdir -p "$d"
	len=$(max_len "$t")
	case $t in
	arxiv_api) seed "$d" $fx/arxiv-api/* $fx/hostile/* ;;
	arxiv_rss) seed "$d" $fx/arxiv-rss/* $fx/hostile/* \
	    $fx/generic/feedrs_rss_1.0_biorxiv.xml ;;
	hf_daily) seed "$d" $fx/generic/*.json; json_seeds "$d" hf ;;
	feed) seed "$d" $fx/generic/*.xml $fx/generic/*.json \
	    $fx/arxiv-rss/* $fx/arxiv-api/api2026_id_* $fx/hostile/* ;;
	sniff) seed "$d" $fx/generic/*.xml $fx/generic/*.json \
	    $fx/arxiv-rss/* $fx/arxiv-api/* $fx/hostile/*
	    json_seeds "$d" hf ;;
	config) seed "$d" etc/*.conf ;;
	render) render_seeds "$d" ;;
	esac
	[ -d "$here/seeds/$t" ] && seed "$d" "$here"/seeds/"$t"/*
	[ -d "$here/regressions/$t" ] && seed "$d" "$here"/regressions/"$t"/*
	return 0
}

# Last value of "key: N" in a libFuzzer log.
stat_of() {
	sed -n "s/.*[[:space:]]$1: *\([0-9][0-9]*\).*/\1/p" "$2" | tail -n 1
}

# --- run ---------------------------------------------------------------
mkdir -p "$fb/logs"
summary=$fb/logs/summary.txt
printf '%-12s %7s %10s %8s %6s %7s %s\n' target seconds execs 'exec/s' \
    cov ft findings >"$summary"
fail=0
for t in $targets; do
	bin=$fb/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: no binary for target '$t'" >&2
		fail=1; continue
	fi
	make_seeds "$t"
	mkdir -p "$fb/corpus/$t"
	art=$fb/artifacts/$t; rm -rf "$art"; mkdir -p "$art"
	log=$fb/logs/$t.log
	d=$(dict "$t")
	echo "fuzz: $t for $seconds s (log: $log)"
	start=$(date +%s)
	"$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
	    -max_len="$(max_len "$t")" ${d:+-dict="$d"} -print_final_stats=1 \
	    -artifact_prefix="$art/" "$fb/corpus/$t" "$fb/seeds/$t" \
	    </dev/null >"$log" 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))
	found=0
	for a in "$art"/*; do
		[ -f "$a" ] || continue
		mkdir -p "$here/regressions/$t"
		cp "$a" "$here/regressions/$t/"
		echo "fuzz: $t: saved $here/regressions/$t/${a##*/}"
		found=$((found + 1))
	done
	if [ "$rc" -ne 0 ] && [ "$found" -eq 0 ]; then
		echo "fuzz: $t exited with status $rc and saved no input:" >&2
		tail -n 20 "$log" >&2
		found=1
	fi
	[ "$found" -gt 0 ] && { fail=1; tail -n 40 "$log"; }
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	printf '%-12s %7s %10s %8s %6s %7s %s\n' "$t" "$took" "${execs:--}" \
	    "${eps:--}" "$(stat_of cov "$log")" "$(stat_of ft "$log")" \
	    "$found" >>"$summary"
done
echo
cat "$summary"
exit "$fail"
