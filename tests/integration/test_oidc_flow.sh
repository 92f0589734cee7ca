#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The OpenID Connect step-up end to end against the mock OP: what the
# authorization request carries, the good cases (Entra-style acrs and
# standard acr), the elevation the API shows, /check before and after,
# revocation, replays, browser binding, and a session minted by stepupd.
. "$(dirname "$0")/lib.sh"
setup

# --- the authorization request
url=$(start_url sess-1 alice c1)
has "start URL is on public_url" "$url" "$SU/stepup/start?t="
hasnt "start URL does not carry the session id" "$url" "sess-1"
hop "$TMP/jar1" "$url"
is "start answers 302" "$HOP_CODE" 302
authz=$HOP_LOC
has "to the OP's authorization endpoint" "$authz" "$MOCK/authorize?"
for p in response_type=code client_id=stepup-rp "redirect_uri=http%3A%2F%2F127.0.0.1%3A$STEPUPD_PORT%2Foidc%2Fcallback" \
	scope=openid state= nonce= code_challenge= code_challenge_method=S256 login_hint=alice max_age=0 prompt=login \
	'claims=%7B%22id_token%22%3A%7B%22acrs%22%3A%7B%22essential%22%3Atrue%2C%22value%22%3A%22c1%22%7D%7D%7D'; do
	has "authorization request carries $p" "$authz" "$p"
done
state=$(python3 -c 'import sys,urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["state"][0])' "$authz")
is "state carries at least 128 bits (43 base64url chars)" "$(( ${#state} >= 22 ))" 1
grep -q 'stepup_flow_' "$TMP/jar1" && ok "the flow is bound to the browser by a cookie" || notok "no binding cookie"
is "a pending flow is stored" "$(db_count 'select count(*) from pending_flows')" 1
is "check before step-up: 401" "$(check_status sess-1 c1)" 401

# --- good case, Entra style
hop "$TMP/jar1" "$authz"
is "OP redirects back" "$HOP_CODE" 302
cb=$HOP_LOC
has "callback carries iss (RFC 9207)" "$cb" "iss="
hop "$TMP/jar1" "$cb"
is "callback answers 303" "$HOP_CODE" 303
is "to the return URL" "$HOP_LOC" "http://127.0.0.1:8088/files/report.pdf"
is "the pending flow is consumed" "$(db_count 'select count(*) from pending_flows')" 0
is "check after step-up: 200" "$(check_status sess-1 c1)" 200
hdrs=$(curl -s -D - -o /dev/null -H 'X-Stepup-Session: sess-1' -H 'X-Stepup-Context: c1' "$SU/check")
has "200 names the user" "$hdrs" "X-Stepup-User: alice"
has "200 names the context" "$hdrs" "X-Stepup-Context: c1"
has "200 gives the expiry" "$hdrs" "X-Stepup-Expires: "
has "200 carries the security headers too" "$hdrs" "X-Content-Type-Options: nosniff"
body=$(curl -s -H 'X-Stepup-Session: sess-1' -H 'X-Stepup-Context: c1' "$SU/check" | wc -c)
is "200 has no body (nginx auth_request keeps its upstream connection)" "$body" 0
is "the elevation is for c1 only" "$(check_status sess-1 loa3)" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: sess-1' -H 'X-Stepup-Context: c1' -H 'X-Stepup-User: alice' "$SU/check")
is "the proxy names the elevated user: 200" "$code" 200
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: sess-1' -H 'X-Stepup-Context: c1' -H 'X-Stepup-User: bob' \
	-H 'X-Original-URI: /files/report.pdf' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "the proxy names another user than the one who stepped up: 401" "$code" 401
is "another session is not elevated" "$(check_status sess-2 c1)" 401
API_HDR="X-Stepup-Session: sess-1"
out=$(api GET /api/v1/session)
API_HDR=
is "GET /api/v1/session: 200" "${out%% *}" 200
body=${out#* }
for k in '"user":"alice"' '"context":"c1"' '"acr":"c1"' '"provider":"op"' '"mfa"' '"auth_time":' '"elevated_at":' '"expires_at":'; do
	has "session JSON has $k" "$body" "$k"
done
is "session ids are stored hashed, never in clear" "$(db_count "select count(*) from elevations where session_hash like '%sess-1%'")" 0
grep -q 'sess-1' "$TMP/var/stepupd.db" "$TMP/var/stepupd.db-wal" 2>/dev/null && notok "session id found in the database files" || ok "session id appears nowhere in the database files"
grep -q 'sess-1' "$TMP/stepupd.log" && notok "session id logged" || ok "session id never logged"

# --- state replay: the same callback again
hop "$TMP/jar1" "$cb"
is "the same callback a second time: 400" "$HOP_CODE" 400
has "and says the state is unknown or used" "$HOP_BODY" "already used"

# --- start link replay
url=$(start_url sess-3 alice c1)
hop "$TMP/jar3" "$url"
hop "$TMP/jar3b" "$url"
is "start link used twice: 400" "$HOP_CODE" 400
has "error page says it was used" "$HOP_BODY" "already been used"
hop "$TMP/jar3" "${url}x"
is "altered start link: 400" "$HOP_CODE" 400
has "error page says not valid" "$HOP_BODY" "not valid"
hop "$TMP/jar3" "$SU/stepup/start"
is "start without a token: 400" "$HOP_CODE" 400
hop "$TMP/jar3" "$SU/stepup/start?t=a&t=b"
is "start with two tokens: 400" "$HOP_CODE" 400
is "none of these stored a pending flow beyond the first" "$(db_count 'select count(*) from pending_flows')" 1

# --- browser binding: the callback arrives in another browser
url=$(start_url sess-4 alice c1)
hop "$TMP/jar4" "$url"
hop "$TMP/jar4" "$HOP_LOC"
hop "$TMP/other-browser" "$HOP_LOC"
is "callback in another browser: 403" "$HOP_CODE" 403
has "error page says so" "$HOP_BODY" "browser"
is "not elevated" "$(check_status sess-4 c1)" 401

# --- unknown state
hop "$TMP/jar5" "$SU/oidc/callback?state=nope&code=x"
is "unknown state: 400" "$HOP_CODE" 400
hop "$TMP/jar5" "$SU/oidc/callback?code=x"
is "no state: 400" "$HOP_CODE" 400
hop "$TMP/jar5" "$SU/oidc/callback?state=a&state=b&code=x"
is "duplicate state: 400" "$HOP_CODE" 400

# --- standard acr context
browse "$TMP/jar6" "$(start_url sess-6 alice loa3)"
is "acr context: elevated (303)" "$HOP_CODE" 303
is "acr context: check 200" "$(check_status sess-6 loa3)" 200

# --- a user who cannot reach the context
browse "$TMP/jar7" "$(start_url sess-7 bob c1)"
is "bob (password only): refused" "$HOP_CODE" 403
has "error page names acrs" "$HOP_BODY" "acrs"
is "bob: check stays 401" "$(check_status sess-7 c1)" 401

# --- subject binding: the start request named carol, the OP signs in alice
url=$(start_url sess-8 carol c1)
hop "$TMP/jar8" "$url"
authz=${HOP_LOC/login_hint=carol/login_hint=alice}
hop "$TMP/jar8" "$authz"
hop "$TMP/jar8" "$HOP_LOC"
is "subject differs from the named user: 403" "$HOP_CODE" 403
has "error page names the subject" "$HOP_BODY" "subject"

# --- revocation
out=$(API_HDR="X-Stepup-Session: sess-1" api DELETE /api/v1/session)
is "DELETE /api/v1/session: 204" "${out%% *}" 204
is "revoked session: next check 401" "$(check_status sess-1 c1)" 401
is "revoked session: no elevations listed" "$(elevations sess-1)" 0

# --- revocation from another process (the CLI) while /check answers from
# its per-thread cache: the very next /check sees it
browse "$TMP/jar10" "$(start_url sess-10 alice c1)"
for i in 1 2 3 4 5 6; do check_status sess-10 c1 >/dev/null; done
is "before the CLI revoke: 200 (cache warm)" "$(check_status sess-10 c1)" 200
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" session revoke sess-10 2>&1)
has "stepupd session revoke says what it did" "$out" "1 elevation(s) revoked"
codes=""
for i in 1 2 3 4; do codes="$codes$(check_status sess-10 c1) "; done
is "every /check right after the CLI revoke: 401" "$codes" "401 401 401 401 "

# --- no session named: stepupd mints one and sets the cookie
jar=$TMP/jar9
echo -e "127.0.0.1\tFALSE\t/\tFALSE\t0\tstepup_session\tattacker-chosen-id" >"$jar"
code=$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' -H 'X-Stepup-Context: c1' -H 'X-Original-URI: /f' -H 'Host: 127.0.0.1:8088' "$SU/check")
is "check with a cookie that was never elevated: 401" "$code" 401
browse "$jar" "$(start_url "" alice c1)"
is "step-up without a session: 303" "$HOP_CODE" 303
newsess=$(awk '$6=="stepup_session"{print $7}' "$jar" | tail -1)
is "a fresh session cookie was set" "$(( ${#newsess} >= 22 ))" 1
[ "$newsess" != attacker-chosen-id ] && ok "the fresh id is not the one the browser brought" || notok "session fixation"
code=$(curl -s -b "stepup_session=$newsess" -o /dev/null -w '%{http_code}' -H 'X-Stepup-Context: c1' "$SU/check")
is "check with the new cookie: 200" "$code" 200
is "the same id works as X-Stepup-Session" "$(check_status "$newsess" c1)" 200
is "the old cookie value is still not elevated" "$(check_status attacker-chosen-id c1)" 401
cookie=$(echo "$HOP_HDR" | grep -i '^set-cookie: stepup_session=')
has "session cookie is HttpOnly" "$cookie" "HttpOnly"
has "session cookie is SameSite=Lax" "$cookie" "SameSite=Lax"
has "session cookie is for the whole site" "$cookie" "Path=/"
hasnt "no Secure flag on a plain-http public_url (loopback development)" "$cookie" "Secure"

# --- audit
is "the successful step-ups are audited" "$(db_count "select count(*) from audit where event='callback' and outcome='elevated'")" 4

done_testing
