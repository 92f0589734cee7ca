#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Admin console sign-in (SPEC 2.5, docs/admin.md): local accounts made with
# `stepupd admin passwd` (password on stdin), the sign-in form and its
# pre-session CSRF token, wrong passwords, the slowdown (per user and per
# address, and that even the right password is refused while it lasts), the
# session cookie's attributes, sessions that expire, forged cookies,
# sign-out, the `next` open-redirect attempts, a user name with markup,
# and sign-in through the mock OP with and without the admin group.
#
# No timing assertion: the slowdown's wait is ended by ageing the failure
# counters in the database, not by sleeping.
. "$(dirname "$0")/lib.sh"
STEPUPD_PORT=$(free_port)
start_mock
write_conf
cat >>"$TMP/stepupd.conf" <<'CONF'

[admin]
provider = op
groups = stepupd-admins
; long enough that the 6th attempt is surely inside the wait
throttle_base = 30
CONF
start_stepupd
CONF=$TMP/stepupd.conf
SUD=$ROOT/$BUILD/stepupd
PW='admin-password-1 with spaces'
PW2='second-admin-password'
XSS='<script>alert(1)</script>'

sql() { sqlite3 -cmd '.timeout 5000' "$TMP/var/stepupd.db" "$1"; }
# post JAR PATH DATA [CURL ARGS...]: a form POST; sets HOP_CODE, HOP_LOC, HOP_BODY, HOP_HDR
post() {
	local jar=$1 p=$2 d=$3 out
	shift 3
	out=$(curl -s -b "$jar" -c "$jar" -D "$TMP/hop.hdr" -o "$TMP/hop.body" -w '%{http_code} %{redirect_url}' \
		-H "Content-Type: ${CT:-application/x-www-form-urlencoded}" --data-binary "$d" "$@" "$SU$p")
	HOP_CODE=${out%% *}
	HOP_LOC=${out#* }
	HOP_BODY=$(cat "$TMP/hop.body")
	HOP_HDR=$(tr -d '\r' <"$TMP/hop.hdr")
}
csrf_of() { grep -o 'name="csrf" value="[^"]*"' <<<"$1" | head -1 | sed 's/.*value="//; s/"$//'; }
cookie_of() { awk -v n="$2" '$6 == n { print $7 }' "$1" 2>/dev/null | tail -1; }
enc() { python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
# login_page JAR [NEXT]: GET /admin/login; sets CSRF
login_page() {
	hop "$1" "$SU/admin/login${2:+?next=$(enc "$2")}"
	CSRF=$(csrf_of "$HOP_BODY")
}
# login JAR USER PASSWORD [NEXT] [CURL ARGS...]: the whole sign-in in one browser
login() {
	local jar=$1 u=$2 p=$3 n=${4:-}
	shift 4 2>/dev/null || shift $#
	login_page "$jar"
	post "$jar" /admin/login "csrf=$(enc "$CSRF")&user=$(enc "$u")&password=$(enc "$p")${n:+&next=$(enc "$n")}" "$@"
}

# --- the command line
out=$(printf '%s\n' "$PW" | "$SUD" -c "$CONF" admin passwd root 2>&1)
is "admin passwd creates an admin (exit 0)" "$?" 0
has "it says so" "$out" "created admin root"
hasnt "the password is not echoed" "$out" "$PW"
out=$(printf 'short-pw-11\n' | "$SUD" -c "$CONF" admin passwd weak 2>&1)
is "a password under 12 characters is refused" "$?" 1
has "with a reason" "$out" "12 to 1024 characters"
out=$("$SUD" -c "$CONF" admin passwd nopw </dev/null 2>&1)
is "no password on stdin is refused" "$?" 1
printf '%s\n' "$PW2" | "$SUD" -c "$CONF" admin passwd "$XSS" >/dev/null 2>&1
is "a name with markup is allowed (shown as text)" "$?" 0
printf '%s\n' "$PW2" | "$SUD" -c "$CONF" admin passwd slow >/dev/null 2>&1
printf '%s\n' "$PW2" | "$SUD" -c "$CONF" admin passwd temp >/dev/null 2>&1
out=$("$SUD" -c "$CONF" admin list)
is "admin list" "$(echo "$out" | tr '\n' ' ')" "$XSS root slow temp "
out=$(printf '%s\n' "$PW2" | "$SUD" -c "$CONF" admin passwd temp 2>&1)
has "passwd on an existing admin changes the password" "$out" "password changed for admin temp"
out=$("$SUD" -c "$CONF" admin remove temp 2>&1)
is "admin remove (exit 0)" "$?" 0
out=$("$SUD" -c "$CONF" admin remove temp 2>&1)
is "removing an unknown admin fails" "$?" 1
"$SUD" -c "$CONF" admin bogus >/dev/null 2>&1
is "an unknown admin subcommand is a usage error" "$?" 2
is "the database keeps an Argon2id hash" "$(sql "select hash like '\$argon2id\$v=19\$m=65536,t=3,p=1\$%' from admin_users where name='root'")" 1
grep -qF "$PW" "$TMP/var/stepupd.db" "$TMP/var/stepupd.db-wal" 2>/dev/null && notok "password found in the database files" ||
	ok "the password appears nowhere in the database files"

# --- no session
hop "$TMP/anon" "$SU/admin/"
is "/admin/ without a session: 303" "$HOP_CODE" 303
is "to the sign-in page, coming back afterwards" "$HOP_LOC" "$SU/admin/login?next=/admin/"
hop "$TMP/anon" "$SU/admin"
is "/admin without a session: 303 to sign-in" "$HOP_CODE $HOP_LOC" "303 $SU/admin/login?next=/admin"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$SU/admin/")
is "HEAD /admin/ without a session: 303" "$code" 303
hop "$TMP/anon" "$SU/admin/sessions?user=a%20b&x=<y>"
has "next keeps the path and the query, encoded" "$HOP_LOC" "/admin/login?next=/admin/sessions%3Fuser%3Da%2520b%26x%3D%3Cy%3E"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'csrf=x' "$SU/admin/logout")
is "POST /admin/logout without a session: 403" "$code" 403

# --- the sign-in page
login_page "$TMP/a"
is "GET /admin/login: 200" "$HOP_CODE" 200
is "the form carries a CSRF token (43 characters)" "${#CSRF}" 43
has "the form posts to /admin/login" "$HOP_BODY" '<form id="admin-login" class="login" method="post" action="/admin/login">'
has "user field" "$HOP_BODY" 'name="user"'
has "password field" "$HOP_BODY" 'name="password" type="password"'
has "a link to sign in through the IdP" "$HOP_BODY" 'href="/admin/login/oidc?next=/admin/"'
hasnt "no script on the page" "$HOP_BODY" '<script'
has "the pre-session cookie: Path=/admin; HttpOnly; SameSite=Strict" "$HOP_HDR" 'stepup_admin_pre='
pre_hdr=$(grep -i '^Set-Cookie: stepup_admin_pre=' <<<"$HOP_HDR")
has "pre-session cookie attributes" "$pre_hdr" "; Path=/admin; HttpOnly; SameSite=Strict"
csp=$(grep -i '^Content-Security-Policy:' <<<"$HOP_HDR")
has "strict CSP: default-src 'none'" "$csp" "default-src 'none'"
hasnt "no unsafe-inline" "$csp" "unsafe-inline"
has "frame-ancestors 'none'" "$csp" "frame-ancestors 'none'"
hop "$TMP/a" "$SU/static/admin.css"
is "the console stylesheet is served" "$HOP_CODE" 200

# --- CSRF on the sign-in form
post "$TMP/a" /admin/login "user=root&password=$(enc "$PW")"
is "POST /admin/login without csrf: 403" "$HOP_CODE" 403
hasnt "and no session cookie" "$HOP_HDR" "stepup_admin="
post "$TMP/a" /admin/login "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&user=root&password=$(enc "$PW")"
is "a wrong csrf: 403" "$HOP_CODE" 403
post "$TMP/fresh" /admin/login "csrf=$(enc "$CSRF")&user=root&password=$(enc "$PW")"
is "the right token from another browser (no pre-session cookie): 403" "$HOP_CODE" 403
post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&csrf=$(enc "$CSRF")&user=root&password=$(enc "$PW")"
is "csrf twice: 403" "$HOP_CODE" 403
post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&user=root&password=%zz"
is "a broken form body: 403 (nothing parsed)" "$HOP_CODE" 403
post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&user=root&password=a%00b"
is "an encoded NUL anywhere in the form: 403" "$HOP_CODE" 403
post "$TMP/a" /admin/login "=x&csrf=$(enc "$CSRF")&user=root&password=x"
is "a field without a name: 403" "$HOP_CODE" 403
CT='application/x-www-form-urlencoded; charset=UTF-8' post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&user=root&password=wrong+password+12"

is "a form with a charset parameter is read (and the password is wrong: 401)" "$HOP_CODE" 401
sql "delete from admin_login_failures"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/a" -H 'Content-Type: application/json' \
	--data "{\"csrf\":\"$CSRF\",\"user\":\"root\"}" "$SU/admin/login")
is "a JSON body is not a form: 403" "$code" 403
is "no admin session was made" "$(sql 'select count(*) from admin_sessions')" 0

# --- wrong passwords
post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&user=root&password=wrong-password-123"
is "a wrong password: 401" "$HOP_CODE" 401
has "the sign-in page again, with a message" "$HOP_BODY" "Wrong user name or password."
is "the failure is counted for the user" "$(sql "select failures from admin_login_failures where key='user:root'")" 1
is "and for the address" "$(sql "select failures from admin_login_failures where key='ip:127.0.0.1'")" 1
hasnt "no session cookie" "$HOP_HDR" "stepup_admin="
post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&user=nobody-here&password=wrong-password-123"
is "an unknown user: 401" "$HOP_CODE" 401
has "with the same message" "$HOP_BODY" "Wrong user name or password."
post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&user=root"
is "no password: 400" "$HOP_CODE" 400
is "audit rows for the refusals" "$(sql "select count(*) from audit where event='admin_login' and outcome='denied'")" 3
sql "delete from admin_login_failures"

# --- a good sign-in
post "$TMP/a" /admin/login "csrf=$(enc "$CSRF")&user=root&password=$(enc "$PW")"
is "the right password: 303" "$HOP_CODE" 303
is "to the console" "$HOP_LOC" "$SU/admin/"
set_cookie=$(grep -i '^Set-Cookie: stepup_admin=' <<<"$HOP_HDR")
has "session cookie: Path=/admin; HttpOnly; SameSite=Strict" "$set_cookie" "; Path=/admin; HttpOnly; SameSite=Strict"
hasnt "no Secure over plain http (public_url is http)" "$set_cookie" "Secure"
hasnt "a browser-session cookie (no Max-Age)" "$set_cookie" "Max-Age"
sid=$(cookie_of "$TMP/a" stepup_admin)
is "a 256-bit id (43 base64url characters)" "${#sid}" 43
is "one admin session" "$(sql 'select count(*) from admin_sessions')" 1
is "stored by its SHA-256" "$(sql "select id_hash from admin_sessions")" "$(printf '%s' "$sid" | sha256sum | cut -d' ' -f1)"
is "signed in locally" "$(sql "select via from admin_sessions")" local
is "the session lasts 8 hours" "$(sql "select expires_at - created_at from admin_sessions")" 28800
grep -q "$sid" "$TMP/var/stepupd.db" "$TMP/var/stepupd.db-wal" "$TMP/stepupd.log" 2>/dev/null && notok "session id in the database or the log" ||
	ok "the session id appears nowhere in the database files or the log"
grep -qF "$PW" "$TMP/stepupd.log" && notok "password logged" || ok "the password is never logged"
hop "$TMP/a" "$SU/admin/"
is "/admin/ with the session: 200" "$HOP_CODE" 200
has "the header names the admin" "$HOP_BODY" '<span class="admin-user" title="Signed in as">root</span>'
has "the sign-out form" "$HOP_BODY" '<form class="signout" method="post" action="/admin/logout">'
SCSRF=$(csrf_of "$HOP_BODY")
is "the session's CSRF token is on the page" "${#SCSRF}" 43
[ "$SCSRF" != "$CSRF" ] && ok "it is not the pre-session token" || notok "the pre-session token was kept"
hop "$TMP/a" "$SU/admin/login"
is "the sign-in page when signed in: 303 to the console" "$HOP_LOC" "$SU/admin/"
hop "$TMP/a" "$SU/admin"
is "/admin with the session: 200" "$HOP_CODE" 200
is "a success resets the user's counter" "$(sql "select count(*) from admin_login_failures where key='user:root'")" 0

# --- forged and stale cookies
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$SU/admin/")
is "a forged cookie: 303 to the sign-in page" "$code" 303
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$(sql 'select id_hash from admin_sessions')" "$SU/admin/")
is "the stored hash as a cookie: 303" "$code" 303
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid; stepup_admin=$sid" "$SU/admin/")
is "the cookie sent twice: 303" "$code" 303
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid" "$SU/admin/")
is "the real cookie alone: 200" "$code" 200

# --- sign-out needs the CSRF token
post "$TMP/a" /admin/logout ""
is "POST /admin/logout without csrf: 403" "$HOP_CODE" 403
post "$TMP/a" /admin/logout "csrf=$(enc "$CSRF")"
is "with the pre-session token: 403" "$HOP_CODE" 403
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid" "$SU/admin/")
is "the session survived" "$code" 200
post "$TMP/a" /admin/logout "csrf=$(enc "$SCSRF")"
is "with the session's token: 303" "$HOP_CODE" 303
is "to the sign-in page" "$HOP_LOC" "$SU/admin/login"
has "the cookie is cleared" "$(grep -i '^Set-Cookie: stepup_admin=;' <<<"$HOP_HDR")" "Max-Age=0"
is "the session row is gone" "$(sql 'select count(*) from admin_sessions')" 0
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid" "$SU/admin/")
is "the old cookie no longer works" "$code" 303
is "sign-out is audited" "$(sql "select count(*) from audit where event='admin_logout'")" 1

# --- the CSRF header works for scripts; a new id at every sign-in
login "$TMP/b" root "$PW"
sid1=$(cookie_of "$TMP/b" stepup_admin)
login "$TMP/b" root "$PW" >/dev/null
hop "$TMP/b" "$SU/admin/login"
is "signed in: the sign-in page sends to the console" "$HOP_CODE" 303
rm -f "$TMP/b"
login "$TMP/b" root "$PW"
sid2=$(cookie_of "$TMP/b" stepup_admin)
[ -n "$sid1" ] && [ -n "$sid2" ] && [ "$sid1" != "$sid2" ] && ok "a new session id at every sign-in" || notok "session id reused"
hop "$TMP/b" "$SU/admin/"
SCSRF=$(csrf_of "$HOP_BODY")
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid2" -X POST -H "X-CSRF-Token: $SCSRF" "$SU/admin/logout")
is "sign-out with the X-CSRF-Token header: 303" "$code" 303
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid2" "$SU/admin/")
is "and the session is gone" "$code" 303

# --- expiry
login "$TMP/c" root "$PW"
sid=$(cookie_of "$TMP/c" stepup_admin)
h=$(printf '%s' "$sid" | sha256sum | cut -d' ' -f1)
sql "update admin_sessions set last_seen = last_seen - 1801 where id_hash = '$h'"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid" "$SU/admin/")
is "idle for more than 30 minutes: 303" "$code" 303
is "and the expired session is deleted" "$(sql "select count(*) from admin_sessions where id_hash = '$h'")" 0
login "$TMP/d" root "$PW"
sid=$(cookie_of "$TMP/d" stepup_admin)
h=$(printf '%s' "$sid" | sha256sum | cut -d' ' -f1)
sql "update admin_sessions set created_at = created_at - 28801, expires_at = expires_at - 28801 where id_hash = '$h'"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid" "$SU/admin/")
is "older than 8 hours, though active: 303" "$code" 303
is "and deleted" "$(sql "select count(*) from admin_sessions where id_hash = '$h'")" 0

# --- next: only console paths
for n in '//evil.example/' 'https://evil.example/' '/\evil.example' '/admin/../x' 'javascript:alert(1)' '/admin//evil.example'; do
	rm -f "$TMP/e"
	login "$TMP/e" root "$PW" "$n"
	is "next=$n: to the console home" "$HOP_CODE $HOP_LOC" "303 $SU/admin/"
done
rm -f "$TMP/e"
login "$TMP/e" root "$PW" "/admin/sessions?user=x"
is "next to a console page is kept" "$HOP_LOC" "$SU/admin/sessions?user=x"
rm -f "$TMP/e"
login_page "$TMP/e" '//evil.example/'
has "the sign-in form does not carry a foreign next" "$HOP_BODY" 'name="next" value="/admin/"'

# --- a name with markup is text
login "$TMP/x" "$XSS" "$PW2"
is "sign in as $XSS" "$HOP_CODE" 303
hop "$TMP/x" "$SU/admin/"
has "the name is escaped in the header" "$HOP_BODY" '<span class="admin-user" title="Signed in as">&lt;script&gt;alert(1)&lt;/script&gt;</span>'
hasnt "no script element" "$HOP_BODY" '<script'

# --- the slowdown, per user (from its own address, through the trusted proxy)
XFF=(-H 'X-Forwarded-For: 192.0.2.10')
for i in 1 2 3 4 5; do
	login "$TMP/s" slow "wrong-password-$i" "" "${XFF[@]}"
	is "wrong password $i for slow: 401" "$HOP_CODE" 401
done
is "five failures counted" "$(sql "select failures from admin_login_failures where key='user:slow'")" 5
is "from 192.0.2.10 (X-Forwarded-For of a trusted proxy)" "$(sql "select failures from admin_login_failures where key='ip:192.0.2.10'")" 5
login "$TMP/s" slow "$PW2" "" -H 'X-Forwarded-For: 192.0.2.20'
is "then even the right password, from another address: 429" "$HOP_CODE" 429
has "try again in N seconds" "$HOP_BODY" "Too many failed sign-ins. Try again in "
has "Retry-After" "$HOP_HDR" "Retry-After: "
hasnt "no session cookie" "$HOP_HDR" "stepup_admin="
is "a throttled attempt is not counted as a failure" "$(sql "select failures from admin_login_failures where key='user:slow'")" 5
is "throttled attempts are audited" "$(sql "select count(*) from audit where event='admin_login' and outcome='throttled'")" 1
# the wait is over (the counters are made older than the wait, not slept on)
sql "update admin_login_failures set last_failure = last_failure - 31"
login "$TMP/s" slow "wrong-password-6" "" "${XFF[@]}"
is "after the wait a wrong password is checked again: 401" "$HOP_CODE" 401
login "$TMP/s" slow "$PW2" "" -H 'X-Forwarded-For: 192.0.2.20'
is "and the next attempt waits again" "$HOP_CODE" 429
wait_s=$(grep -o 'Try again in [0-9]* seconds' <<<"$HOP_BODY" | grep -o '[0-9]*')
[ -n "$wait_s" ] && [ "$wait_s" -gt 30 ] && [ "$wait_s" -le 60 ] && ok "the wait doubled ($wait_s s)" || notok "the wait did not double ($wait_s)"
sql "update admin_login_failures set last_failure = last_failure - 61"
login "$TMP/s" slow "$PW2" "" -H 'X-Forwarded-For: 192.0.2.20'
is "the right password after the wait: 303" "$HOP_CODE" 303
has "with the session cookie" "$HOP_HDR" "stepup_admin="
is "the user's counter is reset" "$(sql "select count(*) from admin_login_failures where key='user:slow'")" 0
is "the address's counter is not" "$(sql "select failures from admin_login_failures where key='ip:192.0.2.10'")" 6

# --- the slowdown, per address (many user names from one address)
for i in 1 2 3 4 5; do
	login "$TMP/t" "guess-$i" "wrong-password-$i" "" -H 'X-Forwarded-For: 192.0.2.30'
done
login "$TMP/t" root "$PW" "" -H 'X-Forwarded-For: 192.0.2.30'
is "five failures from one address: even root's right password waits (429)" "$HOP_CODE" 429
login "$TMP/t" root "$PW" "" -H 'X-Forwarded-For: 192.0.2.31'
is "from another address root signs in" "$HOP_CODE" 303
login "$TMP/t2" root "$PW" "" -H 'X-Forwarded-For: 999.1.1.1'
is "a malformed X-Forwarded-For: 400, nothing checked" "$HOP_CODE" 400

# --- removing an admin ends their sessions
login "$TMP/r" slow "$PW2" "" -H 'X-Forwarded-For: 192.0.2.40'
sid=$(cookie_of "$TMP/r" stepup_admin)
"$SUD" -c "$CONF" admin remove slow >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -b "stepup_admin=$sid" "$SU/admin/")
is "a removed admin's session no longer works" "$code" 303

# --- sign-in through the IdP
before=$(sql 'select count(*) from admin_sessions')
hop "$TMP/o" "$SU/admin/login/oidc?next=/admin/sessions&user=root-admin"
is "GET /admin/login/oidc: 302" "$HOP_CODE" 302
authz=$HOP_LOC
has "to the OP" "$authz" "$MOCK/authorize?"
for p in prompt=login max_age=0 login_hint=root-admin code_challenge_method=S256 state= nonce=; do
	has "the request carries $p" "$authz" "$p"
done
hasnt "no acr asked" "$authz" "claims="
hasnt "no acr_values" "$authz" "acr_values"
hop "$TMP/o" "$authz"
is "the OP answers" "$HOP_CODE" 302
hop "$TMP/o" "$HOP_LOC"
is "a member of stepupd-admins: 200 (signed in)" "$HOP_CODE" 200
has "the page moves on to next" "$HOP_BODY" '<meta http-equiv="refresh" content="0;url=/admin/sessions">'
has "with a link too" "$HOP_BODY" 'href="/admin/sessions"'
set_cookie=$(grep -i '^Set-Cookie: stepup_admin=' <<<"$HOP_HDR")
has "session cookie attributes" "$set_cookie" "; Path=/admin; HttpOnly; SameSite=Strict"
is "one more admin session" "$(sql 'select count(*) from admin_sessions')" "$((before + 1))"
is "signed in through the OP" "$(sql "select via from admin_sessions where user='root-admin'")" "oidc:op"
is "no step-up elevation was made" "$(sql 'select count(*) from elevations')" 0
hop "$TMP/o" "$SU/admin/"
is "/admin/ with it: 200" "$HOP_CODE" 200
has "the header names the IdP's subject" "$HOP_BODY" '>root-admin</span>'
is "audited" "$(sql "select count(*) from audit where event='admin_login' and outcome='ok' and detail='oidc:op'")" 1

before=$(sql 'select count(*) from admin_sessions')
hop "$TMP/p" "$SU/admin/login/oidc?user=alice"
hop "$TMP/p" "$HOP_LOC"
hop "$TMP/p" "$HOP_LOC"
is "not in the admin group: 403" "$HOP_CODE" 403
has "a page that says so" "$HOP_BODY" "not in an admin group"
hasnt "no session cookie" "$HOP_HDR" "stepup_admin="
is "no admin session" "$(sql 'select count(*) from admin_sessions')" "$before"
is "audited as denied" "$(sql "select count(*) from audit where event='admin_login' and outcome='denied' and detail like 'oidc:%'")" 1
hop "$TMP/p" "$SU/admin/"
is "/admin/ still sends to sign-in" "$HOP_CODE" 303

hop "$TMP/q" "$SU/admin/login/oidc?next=//evil.example/&user=root-admin"
hop "$TMP/q" "$HOP_LOC"
cb=$HOP_LOC
hop "$TMP/q2" "$cb"
is "the callback in another browser (no binding cookie): 403" "$HOP_CODE" 403
hasnt "and no session" "$HOP_HDR" "stepup_admin="
hop "$TMP/q" "$cb"
is "replayed in the right browser after that: refused (the flow is used up)" "$HOP_CODE" 400
hop "$TMP/q3" "$SU/admin/login/oidc?next=//evil.example/&user=root-admin"
hop "$TMP/q3" "$HOP_LOC"
hop "$TMP/q3" "$HOP_LOC"
has "a foreign next after the IdP goes to the console home" "$HOP_BODY" 'content="0;url=/admin/"'

out=$(api POST /api/v1/stepups '{"session":"s-adm","user":"root-admin","context":"__admin__","return_to":"http://127.0.0.1:8088/x"}')
is "the admin sign-in context cannot be asked for by a step-up" "${out%% *}" 400

done_testing
