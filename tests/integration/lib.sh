#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Shared helpers for the integration tests: TAP output, free ports, starting
# the mock OP and stepupd on loopback with a throwaway config, and walking a
# browser through a step-up with curl (one cookie jar = one browser).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_N=0
T_FAILED=0
PIDS=()
TMP=$(mktemp -d /tmp/stepupd-it.XXXXXX)

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
notok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# is DESCRIPTION GOT WANT
is() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1 (got '$2', want '$3')"; fi; }
has() { case "$2" in *"$3"*) ok "$1" ;; *) notok "$1 ('$3' not in '${2:0:300}')" ;; esac; }
hasnt() { case "$2" in *"$3"*) notok "$1 ('$3' found)" ;; *) ok "$1" ;; esac; }

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # URL: wait up to 10 s for it to answer
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	return 1
}

# start_mock: sets MOCK_PORT and MOCK (base URL); STEPUPD_PORT must be chosen first
start_mock() {
	MOCK_PORT=$(free_port)
	MOCK=http://127.0.0.1:$MOCK_PORT
	"$ROOT/$BUILD/mock_op" --port "$MOCK_PORT" --issuer "$MOCK" --client-id stepup-rp \
		--client-secret stepup-secret --redirect-uri "http://127.0.0.1:$STEPUPD_PORT/oidc/callback" \
		${MOCK_ARGS:-} >"$TMP/mock.log" 2>&1 &
	PIDS+=($!)
	wait_http "$MOCK/.well-known/openid-configuration" || { echo "# mock OP did not start"; cat "$TMP/mock.log"; exit 1; }
}

fault() { curl -s -o /dev/null -w '%{http_code}' "$MOCK/_mock/fault?set=$1"; }

API_KEY=test-api-key-0123456789abcdef
# write_conf [EXTRA_PROVIDER_LINES]: the config used by the tests
write_conf() {
	mkdir -p "$TMP/var"
	echo "tests:$API_KEY" >"$TMP/api.keys"
	cat >"$TMP/stepupd.conf" <<CONF
[server]
listen = 127.0.0.1:$STEPUPD_PORT
public_url = http://127.0.0.1:$STEPUPD_PORT
trusted_proxies = 127.0.0.1/32
allowed_return_origins = http://127.0.0.1:8088 http://app.test:8088
idp_timeout = ${IDP_TIMEOUT:-10}
${SERVER_EXTRA:-}

[database]
path = ./var/stepupd.db

[secrets]
key_file = ./var/secret.key

[api]
key_file = ./api.keys

[provider "op"]
type = oidc
issuer = $MOCK
client_id = stepup-rp
client_secret = ${CLIENT_SECRET:-stepup-secret}
token_auth = ${TOKEN_AUTH:-client_secret_basic}
id_token_alg = RS256 ES256
${PROVIDER_EXTRA:-}

[context "c1"]
provider = op
acrs = c1
max_age = 0
lifetime = 600

[context "loa3"]
provider = op
acr = urn:test:loa:3
max_age = 0

[context "mail"]
provider = op
acrs = c1
CONF
	if [ -n "${SUBJECT_CLAIM:-}" ]; then
		sed -i "s/^id_token_alg.*/&\nsubject_claim = $SUBJECT_CLAIM/" "$TMP/stepupd.conf"
	fi
}

start_stepupd() {
	"$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" serve >>"$TMP/stepupd.log" 2>&1 &
	STEPUPD_PID=$!
	PIDS+=($STEPUPD_PID)
	SU=http://127.0.0.1:$STEPUPD_PORT
	wait_http "$SU/healthz" || { echo "# stepupd did not start"; cat "$TMP/stepupd.log"; exit 1; }
}

# setup: ports, mock OP, config, stepupd
setup() {
	STEPUPD_PORT=$(free_port)
	start_mock
	write_conf
	start_stepupd
}

api() { # METHOD PATH [JSON] -> prints "STATUS BODY"
	local m=$1 p=$2 d=${3:-}
	if [ -n "$d" ]; then
		curl -s -o "$TMP/api.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $API_KEY" \
			-H 'Content-Type: application/json' --data-binary "$d" "$SU$p"
	else
		curl -s -o "$TMP/api.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $API_KEY" \
			${API_HDR:+-H "$API_HDR"} "$SU$p"
	fi
	echo " $(cat "$TMP/api.out")"
}

start_url() { # SESSION USER CONTEXT [RETURN_TO] -> prints the start URL
	local s=$1 u=$2 c=$3 rt=${4:-http://127.0.0.1:8088/files/report.pdf}
	local body
	body=$(printf '{"session":%s,"user":%s,"context":"%s","return_to":"%s"}' \
		"$( [ -n "$s" ] && printf '"%s"' "$s" || echo null)" \
		"$( [ -n "$u" ] && printf '"%s"' "$u" || echo null)" "$c" "$rt")
	curl -s -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
		--data-binary "$body" "$SU/api/v1/stepups" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])'
}

# hop JAR URL: one browser request, no redirects followed; sets HOP_CODE, HOP_LOC, HOP_BODY, HOP_HDR
hop() {
	local out
	out=$(curl -s -b "$1" -c "$1" -D "$TMP/hop.hdr" -o "$TMP/hop.body" -w '%{http_code} %{redirect_url}' "$2")
	HOP_CODE=${out%% *}
	HOP_LOC=${out#* }
	HOP_BODY=$(cat "$TMP/hop.body")
	HOP_HDR=$(tr -d '\r' <"$TMP/hop.hdr")
}

# browse JAR START_URL: start -> IdP -> callback; leaves the callback's answer in HOP_*
# and the callback URL in CALLBACK_URL
browse() {
	local jar=$1
	hop "$jar" "$2"
	[ "$HOP_CODE" = 302 ] || return 0
	hop "$jar" "$HOP_LOC"
	[ "$HOP_CODE" = 302 ] || return 0
	CALLBACK_URL=$HOP_LOC
	hop "$jar" "$HOP_LOC"
}

check_status() { # SESSION CONTEXT -> HTTP status of /check
	curl -s -o /dev/null -w '%{http_code}' -H "X-Stepup-Session: $1" -H "X-Stepup-Context: $2" \
		-H 'X-Original-URI: /files/report.pdf' -H 'Host: 127.0.0.1:8088' "$SU/check"
}

elevations() { # SESSION -> number of elevations the API lists
	curl -s -H "Authorization: Bearer $API_KEY" -H "X-Stepup-Session: $1" "$SU/api/v1/session" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["elevations"]))'
}

db_count() { sqlite3 "$TMP/var/stepupd.db" "$1"; }

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
