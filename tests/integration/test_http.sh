#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The HTTP surface without a browser flow: the API's refusals, /check's
# answers and fail-closed cases, limits, security headers, the CLI, and a
# clean stop on SIGTERM.
. "$(dirname "$0")/lib.sh"
setup

# --- API keys
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "$SU/api/v1/stepups")
is "POST /api/v1/stepups without a key: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer wrong-key-0123456789' --data '{}' "$SU/api/v1/stepups")
is "with a wrong key: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: s' -X DELETE -u "tests:$API_KEY" "$SU/api/v1/session")
is "DELETE with Basic credentials instead of a bearer key: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Stepup-Session: s" "$SU/api/v1/session")
is "GET /api/v1/session without a key: 401" "$code" 401

# --- POST /api/v1/stepups bodies
R=http://127.0.0.1:8088/x
while IFS='|' read -r desc body; do
	[ -z "$desc" ] && continue
	out=$(api POST /api/v1/stepups "$body")
	is "stepups refuses $desc: 400" "${out%% *}" 400
	has "stepups $desc: JSON error" "${out#* }" '"error"'
done <<EOF2
not JSON|not json
an array|[]
an empty object|{}
no context|{"session":"s","return_to":"$R"}
an unknown context|{"session":"s","context":"nope","return_to":"$R"}
no return_to|{"session":"s","context":"c1"}
a foreign return_to|{"session":"s","context":"c1","return_to":"https://evil.example/"}
a backslash return_to|{"session":"s","context":"c1","return_to":"http://127.0.0.1:8088\\\\@evil.example/"}
a userinfo return_to|{"session":"s","context":"c1","return_to":"http://a@127.0.0.1:8088/"}
a relative return_to|{"session":"s","context":"c1","return_to":"//evil.example/"}
a session over 256 bytes|{"session":"$(head -c 257 /dev/zero | tr '\0' a)","context":"c1","return_to":"$R"}
a session with a control byte|{"session":"a\\u0001b","context":"c1","return_to":"$R"}
a number as session|{"session":5,"context":"c1","return_to":"$R"}
an unknown member|{"session":"s","context":"c1","return_to":"$R","admin":true}
duplicate members|{"session":"s","session":"t","context":"c1","return_to":"$R"}
EOF2
out=$(api POST /api/v1/stepups "{\"session\":\"s\",\"user\":\"alice\",\"context\":\"c1\",\"return_to\":\"$R\"}")
is "a good body: 201" "${out%% *}" 201
has "201 has url" "$out" "\"url\":\"$SU/stepup/start?t="
has "201 has expires_at" "$out" '"expires_at":'
is "refused bodies stored nothing" "$(db_count 'select count(*) from pending_flows')" 0

# --- GET/DELETE session
out=$(API_HDR="X-Stepup-Session: never-seen" api GET /api/v1/session)
is "unknown session: 200" "${out%% *}" 200
is "unknown session: empty list" "${out#* }" '{"user":null,"elevations":[]}'
out=$(api GET /api/v1/session)
is "GET session without X-Stepup-Session: 400" "${out%% *}" 400
out=$(API_HDR="X-Stepup-Session: never-seen" api DELETE /api/v1/session)
is "DELETE unknown session: 204" "${out%% *}" 204

# --- /check
hdr=$(curl -s -D - -o /dev/null -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' -H 'X-Original-URI: /files/a.pdf' -H 'Host: 127.0.0.1:8088' "$SU/check")
has "/check not elevated: 401" "$hdr" "HTTP/1.1 401"
has "401 carries X-Stepup-Location on public_url" "$hdr" "X-Stepup-Location: $SU/stepup/start?t="
has "401 carries the RFC 9470 challenge" "$hdr" 'WWW-Authenticate: Bearer error="insufficient_user_authentication"'
has "challenge names acr_values" "$hdr" 'acr_values="c1"'
has "challenge names max_age" "$hdr" 'max_age=0'
loc=$(echo "$hdr" | awk -F': ' 'tolower($1)=="x-stepup-location"{print $2}' | tr -d '\r')
hop "$TMP/jarc" "$loc"
is "the start URL from /check works: 302 to the OP" "$HOP_CODE" 302
is "it remembered the return URL" "$(db_count "select return_to from pending_flows")" "http://127.0.0.1:8088/files/a.pdf"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' -H 'X-Original-URI: /a' -H 'Host: evil.example' "$SU/check")
is "/check whose return URL is not allowed: 400" "$code" 400
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' -H 'X-Original-URI: //evil.example/' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "/check with X-Original-URI //evil: 400" "$code" 400
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' "$SU/check")
is "/check without the original URI: 400" "$code" 400
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: nope' -H 'X-Original-URI: /a' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "/check with an unknown context: 400" "$code" 400
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Stepup-Session: $(head -c 300 /dev/zero | tr '\0' a)" -H 'X-Stepup-Context: c1' "$SU/check")
is "/check with a session id over 256 bytes: 400" "$code" 400
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Context: c1' -H 'X-Original-URI: /a' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "/check with no session at all: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Stepup-User: $(head -c 257 /dev/zero | tr '\0' u)" -H 'X-Stepup-Context: c1' \
	-H 'X-Original-URI: /a' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "/check with an X-Stepup-User over 256 bytes: 400" "$code" 400
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: s1' "$SU/check")
is "/check with no context and [policy] default allow: 200" "$code" 200
# Traefik / Caddy ForwardAuth header set
hdr=$(curl -s -D - -o /dev/null -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' -H 'X-Forwarded-Method: GET' \
	-H 'X-Forwarded-Proto: http' -H 'X-Forwarded-Host: 127.0.0.1:8088' -H 'X-Forwarded-Uri: /files/t.pdf?x=1' "$SU/check")
has "Traefik/Caddy headers: 401 with a start URL" "$hdr" "X-Stepup-Location: $SU/stepup/start?t="
loc=$(echo "$hdr" | awk -F': ' 'tolower($1)=="x-stepup-location"{print $2}' | tr -d '\r')
hop "$TMP/jart" "$loc"
is "Traefik/Caddy: the return URL is rebuilt from X-Forwarded-*" "$(db_count "select return_to from pending_flows where return_to like '%t.pdf%'")" "http://127.0.0.1:8088/files/t.pdf?x=1"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' \
	-H 'X-Forwarded-Host: evil.example' -H 'X-Forwarded-Uri: /a' "$SU/check")
is "X-Forwarded-Host to a foreign origin: 400, never a start URL" "$code" 400
# Envoy ext_authz (HTTP service, path_prefix /check): original method and path
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' \
	-H 'Host: 127.0.0.1:8088' "$SU/check/files/e.pdf?dl=1&a=b+c")
is "Envoy style POST /check/<path>: 401" "$code" 401
hdr=$(curl -s -D - -o /dev/null -X DELETE -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' -H 'Host: 127.0.0.1:8088' "$SU/check/files/e.pdf?dl=1&a=b+c")
loc=$(echo "$hdr" | awk -F': ' 'tolower($1)=="x-stepup-location"{print $2}' | tr -d '\r')
hop "$TMP/jare" "$loc"
is "Envoy style: the return URL keeps the original path and query" "$(db_count "select return_to from pending_flows where return_to like '%e.pdf%'")" "http://127.0.0.1:8088/files/e.pdf?dl=1&a=b+c"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' \
	-H 'X-Original-URI: /files/a' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "/check answers any method (Traefik forwards the original one): 401" "$code" 401
# proxies that show the check's answer to the browser ask for a redirect
hdr=$(curl -s -D - -o /dev/null -H 'X-Stepup-Redirect: 1' -H 'X-Stepup-Session: s1' -H 'X-Stepup-Context: c1' \
	-H 'X-Forwarded-Host: 127.0.0.1:8088' -H 'X-Forwarded-Uri: /files/r.pdf' "$SU/check")
has "X-Stepup-Redirect: 302" "$hdr" "HTTP/1.1 302"
has "X-Stepup-Redirect: Location is the start URL" "$hdr" "Location: $SU/stepup/start?t="
# a malformed session cookie is no session (a malformed header is refused above)
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_session=$(head -c 300 /dev/zero | tr '\0' a)" \
	-H 'X-Stepup-Context: c1' -H 'X-Original-URI: /f' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "an over-long stepup_session cookie: treated as no session (401 with a start URL)" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$SU/api/v1/session" -H "Authorization: Bearer $API_KEY")
is "POST /api/v1/session: 405" "$code" 405
hop "$TMP/jarq" "$SU/oidc/callback?state=%zz&code=x"
is "a broken percent-escape in a parameter: 400" "$HOP_CODE" 400
hop "$TMP/jarq" "$SU/oidc/callback?state=a%00b&code=x"
is "an encoded NUL in a parameter: 400" "$HOP_CODE" 400
code=$(curl -s -o /dev/null -w '%{http_code}' "$SU/nope")
is "unknown path: 404" "$code" 404

# --- limits and headers
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$SU/healthz")
is "40 KB of headers: refused (431)" "$code" 431
head -c 70000 /dev/zero | tr '\0' a >"$TMP/big.body"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $API_KEY" --data-binary @"$TMP/big.body" "$SU/api/v1/stepups")
is "70 KB body: 413" "$code" 413
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary 'x' "$SU/check")
is "a body where none is taken: refused" "$([ "$code" -ge 400 ] && echo yes)" yes
hdr=$(curl -s -D - -o /dev/null "$SU/healthz")
for h in 'X-Content-Type-Options: nosniff' 'X-Frame-Options: DENY' 'Referrer-Policy: no-referrer' \
	'Cache-Control: no-store' "Content-Security-Policy: default-src 'none'"; do
	has "security header: $h" "$hdr" "$h"
done
hdr=$(curl -s -D - -o /dev/null "$SU/nope")
has "security headers on a 404 too" "$hdr" "X-Content-Type-Options: nosniff"
# a slow client cannot hold a connection forever (connection_timeout applies); a
# half-sent request is dropped while others are served
(exec 3<>/dev/tcp/127.0.0.1/$STEPUPD_PORT; printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3; sleep 3) &
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$SU/healthz")
is "a half-sent request does not block others" "$code" 200

# --- CLI
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" check-config 2>&1); st=$?
is "check-config on a good file: exit 0" "$st" 0
printf '[server]\nlisten = 127.0.0.1:8080\nbogus = 1\n\n[context "x"]\nprovider = nope\nlifetime = -5\n' >"$TMP/bad.conf"
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/bad.conf" check-config 2>&1); st=$?
is "check-config on a bad file: exit 1" "$st" 1
has "names the unknown key's line" "$out" "bad.conf:3:"
has "names the bad lifetime's line" "$out" "bad.conf:7:"
has "names the unknown provider" "$out" "bad.conf:6:"
out=$("$ROOT/$BUILD/stepupd" version); has "version prints" "$out" "stepupd "
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" session list 2>&1); st=$?
is "session list: exit 0" "$st" 0
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" bogus 2>&1); st=$?
is "unknown command: exit 2" "$st" 2

# --- a second instance on the same port fails to start, cleanly
"$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" serve >"$TMP/second.log" 2>&1; st=$?
is "a second instance on a busy port exits 1" "$st" 1

# --- clean stop
kill -TERM "$STEPUPD_PID"
for _ in $(seq 100); do kill -0 "$STEPUPD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$STEPUPD_PID" 2>/dev/null && notok "stops within 10 s of SIGTERM" || ok "stops within 10 s of SIGTERM"
wait "$STEPUPD_PID"; st=$?
is "exit status 0 after SIGTERM" "$st" 0
has "logs the stop" "$(cat "$TMP/stepupd.log")" "stopping"

done_testing
