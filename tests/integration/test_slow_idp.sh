#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A slow identity provider never holds the threads that answer /check: the
# callback waiting on a token endpoint that does not answer runs on a
# slow-work thread, so /check keeps answering (here with a single daemon
# thread, where a blocked thread would stop every /check for idp_timeout).
. "$(dirname "$0")/lib.sh"
SERVER_EXTRA="threads = 1" IDP_TIMEOUT=20 setup

fault token_slow >/dev/null
url=$(start_url sess-slow alice c1)
hop "$TMP/j" "$url"
hop "$TMP/j" "$HOP_LOC"
cb=$HOP_LOC
curl -s -o "$TMP/cb.out" -w '%{http_code}' -b "$TMP/j" "$cb" >"$TMP/cb.code" &
CB=$!
sleep 1
codes=""
for i in 1 2 3 4 5; do
	codes="$codes $(curl -s -o /dev/null --max-time 8 -w '%{http_code}' -H "X-Stepup-Session: other-$i" -H 'X-Stepup-Context: c1' \
		-H 'X-Original-URI: /f' -H 'Host: 127.0.0.1:8088' "$SU/check")"
done
is "five /check answered while a callback waits on a silent token endpoint" "$codes" " 401 401 401 401 401"
kill -0 "$CB" 2>/dev/null && ok "the callback is still waiting on the IdP meanwhile" || notok "the callback is still waiting on the IdP meanwhile"
is "health answers too" "$(curl -s --max-time 8 "$SU/healthz")" ok
wait "$CB"
is "the waiting callback ends in a refusal after idp_timeout" "$(cat "$TMP/cb.code")" 400
is "and elevates nothing" "$(check_status sess-slow c1)" 401
# SIGTERM while a callback waits on the silent token endpoint (idp_timeout
# is 20 s here): stepupd still stops within the 10 s SPEC 4 allows
url=$(start_url sess-slow2 alice c1)
hop "$TMP/j2" "$url"
hop "$TMP/j2" "$HOP_LOC"
curl -s -o /dev/null -b "$TMP/j2" "$HOP_LOC" &
sleep 1
kill -TERM "$STEPUPD_PID"
for _ in $(seq 100); do kill -0 "$STEPUPD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$STEPUPD_PID" 2>/dev/null && notok "stops within 10 s of SIGTERM with an IdP call hanging" || ok "stops within 10 s of SIGTERM with an IdP call hanging"
wait "$STEPUPD_PID"; st=$?
is "and exits 0" "$st" 0
fault none >/dev/null
done_testing
