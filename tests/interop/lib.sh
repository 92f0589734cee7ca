# SPDX-License-Identifier: AGPL-3.0-or-later
# Helpers the interop tests share (sourced, not run, by
# tests/interop/test_*.sh after they set HERE to their own directory): the
# paths (ROOT, cd there, BUILD, STEPUPD), TAP output, stopping a process,
# polling, and stepupd itself (check-config, serve, the API and /check
# headers). Each test keeps its own temp dir, cleanup trap, IdP and config;
# the helpers read T (temp dir), SD (stepupd's URL), SD_PID and TOKEN (the
# API key) when they are called.
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
STEPUPD=$BUILD/stepupd

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # description, command...
	local d=$1; shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}
diag() { sed 's/^/# /'; }
bail() { notok "$*"; echo "1..$n"; exit 1; }

STOP_ST=
stop_pid() { # pid: TERM, wait up to 10 s, then KILL; exit status in STOP_ST
	local pid=$1
	STOP_ST=
	[ -n "$pid" ] || return 0
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	STOP_ST=$?
}

wait_for() { # seconds, command...: poll every 0.1 s
	local limit=$(($1 * 10)); shift
	for _ in $(seq 1 "$limit"); do "$@" && return 0; sleep 0.1; done
	return 1
}

# sd_start WHAT: `stepupd check-config` must accept $T/stepupd.conf (a TAP
# line naming the config WHAT), then `stepupd serve` runs in the background
# (SD_PID) and must answer on $SD within 15 s, else the test bails out.
sd_ready() { kill -0 "$SD_PID" 2>/dev/null && curl -s -o /dev/null --max-time 2 "$SD/check"; }
sd_start() {
	local st
	"$STEPUPD" -c "$T/stepupd.conf" check-config >"$T/check-config.out" 2>&1
	st=$?
	if [ "$st" -eq 0 ]; then ok "stepupd check-config accepts $1"
	else notok "stepupd check-config accepts $1 (exit $st)"; diag <"$T/check-config.out"; fi
	"$STEPUPD" -c "$T/stepupd.conf" serve >"$T/stepupd.out" 2>"$T/stepupd.err" &
	SD_PID=$!
	wait_for 15 sd_ready || bail "stepupd serve answers on $SD"
	ok "stepupd serve answers on $SD"
}

# api METHOD PATH [session] [body]: sets CODE, body in $T/resp
api() {
	local m=$1 p=$2 sess=${3:-} body=${4:-}
	local a=(-s -o "$T/resp" -w '%{http_code}' --max-time 10 -X "$m"
		-H "Authorization: Bearer $TOKEN")
	[ -n "$sess" ] && a+=(-H "X-Stepup-Session: $sess")
	[ -n "$body" ] && a+=(-H 'Content-Type: application/json' --data-binary "$body")
	CODE=$(curl "${a[@]}" "$SD$p")
}
# hdr NAME: value of a header of the last /check answer ($T/check.hdr)
hdr() { sed -n "s/^$1: *//Ip" "$T/check.hdr" | tr -d '\r' | head -1; }
