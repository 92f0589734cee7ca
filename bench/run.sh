#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# bench/run.sh: the benchmark behind `make bench` (issue 4, item 6). It is
# not a test: it asserts nothing and always exits 0 once it has measured;
# it prints a table and the goals' ratios with PASS/FAIL.
#
# What it measures, on 127.0.0.1, with wrk (one thread, -c64, a warm-up
# before each row), every row BENCH_ROUNDS times in turn (round-robin, so a
# burst of noise from elsewhere on the machine hits every row alike) and
# reports each row's median:
#   bare            bench/bare: libmicrohttpd answering 200, nothing else
#   stepupd 100k    GET /check, elevated sessions, 100,000 in the store
#   stepupd 1M      the same with 1,000,000 sessions in the store
#   ... cold        the same two with a request set so large that nearly
#                   every lookup misses the per-thread cache (SQLite path)
#   nginx plain     nginx alone (empty_gif)
#   nginx -> null   nginx auth_request to a location that returns 200
#   nginx -> bare   nginx auth_request to bench/bare
#   nginx -> stepupd  nginx auth_request to stepupd /check (100k)
# Sessions are seeded by bench/seed.py into databases that stepupd itself
# created (so the schema and indexes are the real ones); the seeded files
# are kept in $BUILD/bench/ and reused while db/migrations and seed.py are
# unchanged and the file is under 7 days old (the elevations expire after
# 29 days).
#
# What it does not do: pin CPUs (wrk, nginx and the servers share the
# machine's cores, as they would on a small host), or compare figures
# across runs: only the ratios within one run mean something.
#
# Environment: BUILD (build), BENCH_DURATION (10 s), BENCH_WARMUP (3 s),
# BENCH_CONNECTIONS (64), BENCH_ROUNDS (3), BENCH_SET (4096 requests, the
# working set), BENCH_COLD_SET (200000), BENCH_SKIP_1M=1 (no 1M rows),
# BENCH_ROWS (names of the rows to run, e.g. "bare su100k"; default all).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
DUR=${BENCH_DURATION:-10}
WARM=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-64}
ROUNDS=${BENCH_ROUNDS:-3}
SET=${BENCH_SET:-4096}
COLD_SET=${BENCH_COLD_SET:-200000}
WORK=$ROOT/$BUILD/bench
STEPUPD=$ROOT/$BUILD/stepupd
BARE=$WORK/bare
PIDS=()

die() { echo "bench: $*" >&2; exit 1; }

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in wrk nginx python3 curl; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
[ -x "$STEPUPD" ] || die "$STEPUPD is not built"
[ -x "$BARE" ] || die "$BARE is not built"
mkdir -p "$WORK/nginx-tmp" || die "cannot create $WORK"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # URL [HEADER...]: wait up to 20 s for a 2xx
	local url=$1
	shift
	for _ in $(seq 200); do
		curl -sf -o /dev/null --max-time 1 "$@" "$url" && return 0
		sleep 0.1
	done
	return 1
}

# write_conf DIR PORT DB: a stepupd configuration for the benchmark
write_conf() {
	mkdir -p "$1"
	cat >"$1/stepupd.conf" <<CONF
[server]
listen = 127.0.0.1:$2
public_url = http://127.0.0.1:$2
trusted_proxies = 127.0.0.1/32
allowed_return_origins = http://127.0.0.1:8088
log_level = warn

[database]
path = $3

[secrets]
key_file = $1/secret.key

[provider "op"]
type = oidc
issuer = http://127.0.0.1:9
client_id = bench
client_secret = bench-secret

[context "bench"]
provider = op
acrs = urn:bench:mfa
CONF
}

# seed N: $WORK/seed-N.db holding N elevated sessions (made or reused)
seed() {
	local n=$1 db=$WORK/seed-$1.db key t0
	key=$(cat db/migrations/*.sql bench/seed.py | sha256sum | cut -c1-16)
	if [ -f "$db" ] && [ "$(cat "$db.key" 2>/dev/null)" = "$key" ] &&
		[ -z "$(find "$db" -mtime +7)" ]; then
		echo "# reusing $db"
		return 0
	fi
	rm -f "$db" "$db-wal" "$db-shm" "$db.key"
	write_conf "$WORK/seed-$n" 1 "$db"
	t0=$(date +%s)
	"$STEPUPD" -c "$WORK/seed-$n/stepupd.conf" session list >/dev/null 2>"$WORK/seed-$n.log" ||
		die "stepupd could not create $db (see $WORK/seed-$n.log)"
	python3 bench/seed.py "$db" "$n" || die "seeding $db failed"
	echo "$key" >"$db.key"
	echo "# seeded $db with $n sessions in $(($(date +%s) - t0)) s"
}

# start_stepupd NAME N: stepupd on the N-session database; sets PORT_<NAME>
start_stepupd() {
	local name=$1 n=$2 port
	port=$(free_port)
	write_conf "$WORK/$name" "$port" "$WORK/seed-$n.db"
	"$STEPUPD" -c "$WORK/$name/stepupd.conf" serve >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$name=$!"
	eval "PORT_$name=$port"
	wait_http "http://127.0.0.1:$port/check" -H 'X-Stepup-Session: bench-1' \
		-H 'X-Stepup-Context: bench' || die "stepupd ($name) did not answer 200 (see $WORK/$name.log)"
}

# cpu_ticks PID: user+system clock ticks the process has used
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# to_us VALUE: wrk's latency ("457.00us", "3.84ms", "1.02s") in microseconds
to_us() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); print v + 0 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000000 }
		else print -1 }'
}

# measure ROW URL PATH SESSIONS SET PID...: one warm-up and one measured wrk
# run; appends "rps p99_us cpu_us_per_request" to $WORK/row-ROW.txt (the CPU
# is the server's, plus nginx's when given: of the PIDs listed)
measure() {
	local row=$1 url=$2 path=$3 n=$4 set=$5
	shift 5
	local out rps p99 reqs bad t0=0 t1=0 p tck
	tck=$(getconf CLK_TCK)
	BENCH_PATH=$path BENCH_SESSIONS=$n BENCH_SET=$set \
		wrk -t1 -c"$CONNS" -d"${WARM}s" -s bench/check.lua "$url" >/dev/null 2>&1
	for p in "$@"; do t0=$((t0 + $(cpu_ticks "$p"))); done
	out=$(BENCH_PATH=$path BENCH_SESSIONS=$n BENCH_SET=$set \
		wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -s bench/check.lua "$url" 2>&1)
	for p in "$@"; do t1=$((t1 + $(cpu_ticks "$p"))); done
	rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
	p99=$(to_us "$(echo "$out" | awk '$1 == "99%" {print $2}')")
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	bad=$(echo "$out" | awk '/Non-2xx/ {print $NF} /Socket errors/ {print "socket-errors"}')
	if [ -z "$rps" ] || [ -z "$reqs" ] || [ -n "$bad" ]; then
		echo "$out" >"$WORK/row-$row.err"
		die "row $row: wrk failed or got errors (see $WORK/row-$row.err)"
	fi
	echo "$rps $p99 $(awk -v t=$((t1 - t0)) -v h="$tck" -v n="$reqs" \
		'BEGIN {printf "%.1f", t * 1000000 / h / n}')" >>"$WORK/row-$row.txt"
}

# median ROW COLUMN: the median of one column of a row's rounds
median() {
	awk -v c="$2" '{print $c}' "$WORK/row-$1.txt" | sort -g |
		awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# ---- set up
SKIP_1M=${BENCH_SKIP_1M:-}
case " ${BENCH_ROWS:-su1m} " in *" su1m"*) ;; *) SKIP_1M=1 ;; esac
echo "# seeding (first run only: 1M takes ~20 s)"
seed 100000
[ "$SKIP_1M" = 1 ] || seed 1000000

BARE_PORT=$(free_port)
"$BARE" "$BARE_PORT" >"$WORK/bare.log" 2>&1 &
PIDS+=($!)
PID_bare=$!
wait_http "http://127.0.0.1:$BARE_PORT/check" || die "bare did not start"
start_stepupd su100k 100000
[ "$SKIP_1M" = 1 ] || start_stepupd su1m 1000000

NGINX_PORT=$(free_port)
sed -e "s#@WORK@#$WORK#g" -e "s#@BARE_PORT@#$BARE_PORT#g" -e "s#@STEPUPD_PORT@#$PORT_su100k#g" \
	-e "s#@NGINX_PORT@#$NGINX_PORT#g" bench/nginx.conf.in >"$WORK/nginx.conf"
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" >"$WORK/nginx.log" 2>&1 &
PIDS+=($!)
PID_nginx=$!
wait_http "http://127.0.0.1:$NGINX_PORT/stepupd" -H 'X-Stepup-Session: bench-1' \
	-H 'X-Stepup-Context: bench' || die "nginx did not start (see $WORK/nginx-error.log)"
NGINX_WORKER=$(pgrep -P "$PID_nginx" | head -1)
[ -n "$NGINX_WORKER" ] || NGINX_WORKER=$PID_nginx

# ---- rows: name, label, URL, path, sessions, request set, PIDs whose CPU counts
ROWS=()
# BENCH_ROWS="bare su100k ...": only these rows (the goals then use what is there)
row() {
	case " ${BENCH_ROWS:-${1%%|*}} " in *" ${1%%|*} "*) ROWS+=("$*") ;; esac
}
D=http://127.0.0.1
row "bare|bare libmicrohttpd|$D:$BARE_PORT|/check|100000|$SET|$PID_bare"
row "su100k|stepupd /check, 100k sessions|$D:$PORT_su100k|/check|100000|$SET|$PID_su100k"
if [ "$SKIP_1M" != 1 ]; then
	row "su1m|stepupd /check, 1M sessions|$D:$PORT_su1m|/check|1000000|$SET|$PID_su1m"
fi
row "su100k_cold|stepupd /check, 100k, cold|$D:$PORT_su100k|/check|100000|$COLD_SET|$PID_su100k"
if [ "$SKIP_1M" != 1 ]; then
	row "su1m_cold|stepupd /check, 1M, cold|$D:$PORT_su1m|/check|1000000|$COLD_SET|$PID_su1m"
fi
row "ngx_plain|nginx alone (empty_gif)|$D:$NGINX_PORT|/plain|100000|$SET|$NGINX_WORKER"
row "ngx_null|nginx auth_request -> return 200|$D:$NGINX_PORT|/null|100000|$SET|$NGINX_WORKER"
row "ngx_bare|nginx auth_request -> bare|$D:$NGINX_PORT|/bare|100000|$SET|$NGINX_WORKER $PID_bare"
row "ngx_su|nginx auth_request -> stepupd (100k)|$D:$NGINX_PORT|/stepupd|100000|$SET|$NGINX_WORKER $PID_su100k"

for r in "${ROWS[@]}"; do rm -f "$WORK/row-${r%%|*}.txt"; done
echo "# $ROUNDS round(s) of ${#ROWS[@]} rows: wrk -t1 -c$CONNS, ${WARM} s warm-up + ${DUR} s each, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
	for r in "${ROWS[@]}"; do
		IFS='|' read -r name label url path n set pids <<<"$r"
		# shellcheck disable=SC2086
		measure "$name" "$url$path" "$path" "$n" "$set" $pids
	done
	echo "# round $round done (load $(cut -d' ' -f1-3 /proc/loadavg))"
done

# ---- table
printf '\n%-38s %12s %10s %14s\n' "row (median of $ROUNDS)" "requests/s" "p99" "CPU us/req*"
printf '%-38s %12s %10s %14s\n' "--------------------------------------" "------------" "----------" "--------------"
declare -A RPS P99
for r in "${ROWS[@]}"; do
	IFS='|' read -r name label _ <<<"$r"
	RPS[$name]=$(median "$name" 1)
	P99[$name]=$(median "$name" 2)
	printf '%-38s %12.0f %8.2fms %14s\n' "$label" "${RPS[$name]}" \
		"$(awk -v u="${P99[$name]}" 'BEGIN {print u / 1000}')" "$(median "$name" 3)"
done
echo "* CPU of the server (nginx rows: nginx's worker plus the check server) per request"

# ---- goals
goal() { # LABEL VALUE OP LIMIT
	local verdict
	verdict=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN {
		ok = (op == ">=") ? (v >= l) : (v <= l); print ok ? "PASS" : "FAIL" }')
	printf '%-62s %6.2fx  %s %.2fx  %s\n' "$1" "$2" "$3" "$4" "$verdict"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print (b > 0) ? a / b : 0}'; }
echo
echo "goals (ratios within this run)"
has() { for k in "$@"; do [ -n "${RPS[$k]:-}" ] || return 1; done; }
has su100k bare &&
	goal "stepupd /check rps / bare rps (100k sessions)" "$(ratio "${RPS[su100k]}" "${RPS[bare]}")" ">=" 0.8
has su100k bare &&
	goal "stepupd /check p99 / bare p99 (c$CONNS)" "$(ratio "${P99[su100k]}" "${P99[bare]}")" "<=" 1.5
has ngx_su ngx_bare &&
	goal "nginx->stepupd rps / nginx->bare rps" "$(ratio "${RPS[ngx_su]}" "${RPS[ngx_bare]}")" ">=" 0.9
has su1m su100k &&
	goal "stepupd 1M rps / stepupd 100k rps" "$(ratio "${RPS[su1m]}" "${RPS[su100k]}")" ">=" 0.9
has su1m_cold su100k_cold &&
	goal "stepupd 1M rps / 100k rps, cold (not a goal: SQLite path)" \
		"$(ratio "${RPS[su1m_cold]}" "${RPS[su100k_cold]}")" ">=" 0.9
echo
echo "for reading the above: CPU per request (steadier than requests/s when the machine is busy)"
has su100k bare &&
	printf '%-62s %6.2fx\n' "stepupd /check CPU per request / bare" "$(ratio "$(median su100k 3)" "$(median bare 3)")"
has ngx_su ngx_bare &&
	printf '%-62s %6.2fx\n' "nginx+stepupd CPU per request / nginx+bare" \
		"$(ratio "$(median ngx_su 3)" "$(median ngx_bare 3)")"
exit 0
