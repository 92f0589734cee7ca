#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A real nginx (Debian's, auth_request) in front of the small file app in
# tests/nginx/, protected by stepupd, with the mock OP as the IdP:
#  - an unmanaged device asking for a labelled file is sent to step-up,
#    signs in with MFA at the mock OP, comes back and gets the file;
#  - an unlabelled file is served directly;
#  - a managed device (client certificate over mutual TLS) gets a labelled
#    file directly; a certificate from another CA, or an X-Device-Tags header
#    the client sends itself, makes no device managed;
#  - a blocking policy gives 403, even after a step-up or from a managed device;
#  - a revoked session is stopped at its next request;
#  - a cookie planted before the step-up is not the one that gets elevated;
#  - path and Host spelling tricks never yield a labelled file;
#  - stepupd being down (or answering garbage) gives an error page, never
#    the file.
# It runs the nginx config in two modes: "policy" (nginx sends the file's
# label and device tags, stepupd's session policies decide) and "explicit"
# (nginx maps the label to X-Stepup-Context itself).
. "$(dirname "$0")/lib.sh"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	echo "# nginx is not installed (make deps installs nginx-light)"
	notok "nginx is installed"
	done_testing
	exit 1
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
NGX=$ROOT/tests/nginx
WWW=$NGX/www

STEPUPD_PORT=$(free_port)
HTTP_PORT=$(free_port)
TLS_PORT=$(free_port)
APP=http://127.0.0.1:$HTTP_PORT
APPS=https://127.0.0.1:$TLS_PORT
start_mock
write_conf
sed -i "s|^allowed_return_origins = .*|allowed_return_origins = $APP $APPS|" "$TMP/stepupd.conf"
bash "$ROOT/certs/make-test-certs.sh" "$TMP/certs" >/dev/null || { echo "# could not make certificates"; exit 1; }
CERTS=$TMP/certs

# the session policies: step-up for Confidential from unmanaged devices,
# block for Highly Confidential (tests/nginx/policies.json)
MODES="policy explicit"
if "$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" policy import "$NGX/policies.json" >"$TMP/import.log" 2>&1; then
	ok "stepupd policy import tests/nginx/policies.json"
else
	notok "stepupd policy import tests/nginx/policies.json"; sed 's/^/# /' "$TMP/import.log"
	MODES="explicit"
fi
start_stepupd

SECRET_CONF=$(cat "$WWW/files/confidential/salaries.csv")
MARK_CONF=CONFIDENTIAL-7f3a91
MARK_Q3=CONFIDENTIAL-q3-4d9e
MARK_HIGH=HIGHLY-CONFIDENTIAL-e81b0c
F_CONF=/files/confidential/salaries.csv
F_Q3=/files/reports/q3-forecast.txt
F_HIGH=/files/highly-confidential/merger-plan.txt
F_PUB=/files/public/welcome.txt

NGINX_PID=
start_nginx() { # MODE
	local context_map=""
	# explicit mode: Confidential needs c1 unless the device is managed
	[ "$1" = explicit ] && context_map='		"Confidential|" c1;'
	rm -rf "$TMP/nginx"
	STEPUPD=127.0.0.1:$STEPUPD_PORT HTTP_LISTEN=127.0.0.1:$HTTP_PORT TLS_LISTEN=127.0.0.1:$TLS_PORT \
		CERTS=$CERTS CONTEXT_MAP=$context_map bash "$NGX/render.sh" "$TMP/nginx" ||
		{ notok "render the nginx config"; return 1; }
	if "$NGINX" -t -q -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx-t.log"; then
		ok "[$1] nginx accepts the rendered config"
	else
		notok "[$1] nginx accepts the rendered config"; sed 's/^/# /' "$TMP/nginx-t.log"; return 1
	fi
	"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" 2>>"$TMP/nginx/error.log" &
	NGINX_PID=$!
	PIDS+=($NGINX_PID)
	wait_http "$APP/" || { notok "[$1] nginx starts"; sed 's/^/# /' "$TMP/nginx/error.log"; return 1; }
}

stop_nginx() {
	[ -n "$NGINX_PID" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}

jar_session() { # JAR -> the stepup_session cookie's value
	awk -F'\t' '$6 == "stepup_session" { v = $7 } END { print v }' "$1" 2>/dev/null
}

# get JAR URL [CURL ARGS...]: one request without following redirects; sets HOP_*
get() {
	local jar=$1 url=$2 out
	shift 2
	out=$(curl -s --path-as-is -b "$jar" -c "$jar" -D "$TMP/hop.hdr" -o "$TMP/hop.body" \
		-w '%{http_code} %{redirect_url}' "$@" "$url")
	HOP_CODE=${out%% *}
	HOP_LOC=${out#* }
	HOP_BODY=$(cat "$TMP/hop.body")
	HOP_HDR=$(tr -d '\r' <"$TMP/hop.hdr")
}

# walk JAR FILE-URL LABEL [CURL ARGS...]: asks for the file, follows the
# step-up through the mock OP and back, asks again; HOP_* is the last answer
walk() {
	local jar=$1 url=$2 m=$3
	shift 3
	get "$jar" "$url" "$@"
	is "[$m] unmanaged device, labelled file: 302" "$HOP_CODE" 302
	has "[$m] to stepupd's start URL" "$HOP_LOC" "$SU/stepup/start?t="
	has "[$m] the redirect is not cacheable" "$HOP_HDR" "Cache-Control: no-store"
	hasnt "[$m] the redirect does not contain the file" "$HOP_BODY" "CONFIDENTIAL-"
	browse "$jar" "$HOP_LOC"
	is "[$m] the callback answers 303" "$HOP_CODE" 303
	is "[$m] back to the file on nginx" "$HOP_LOC" "$url"
	get "$jar" "$url" "$@"
}

run_mode() { # MODE
	local m=$1 j s
	start_nginx "$m" || return 0

	# --- unlabelled files and the index: served directly
	get "$TMP/jar0-$m" "$APP$F_PUB"
	is "[$m] unlabelled file: 200 without step-up" "$HOP_CODE" 200
	is "[$m] unlabelled file: its content" "$HOP_BODY" "$(cat "$WWW$F_PUB")"
	get "$TMP/jar0-$m" "$APP/files/reports/q2-summary.txt"
	is "[$m] unlabelled file next to a labelled one: 200" "$HOP_CODE" 200
	get "$TMP/jar0-$m" "$APP/"
	is "[$m] the app's index page: 200" "$HOP_CODE" 200
	get "$TMP/jar0-$m" "$APP/nginx.conf.in"
	is "[$m] nothing outside the app's root is served" "$HOP_CODE" 404

	# --- unmanaged device: step-up, then the file
	j=$TMP/jar1-$m
	walk "$j" "$APP$F_CONF" "$m"
	is "[$m] after step-up: 200" "$HOP_CODE" 200
	is "[$m] after step-up: the file's content" "$HOP_BODY" "$SECRET_CONF"
	s=$(jar_session "$j")
	is "[$m] stepupd set a stepup_session cookie of >= 128 bits" "$(( ${#s} >= 22 ))" 1
	is "[$m] the API lists the cookie's session as elevated" "$(elevations "$s")" 1
	get "$j" "$APP$F_Q3"
	is "[$m] another Confidential file (labelled by name): 200 without a second step-up" "$HOP_CODE" 200
	has "[$m] and its content" "$HOP_BODY" "$MARK_Q3"
	has "[$m] labelled files are not cacheable" "$HOP_HDR" "Cache-Control: private, no-store"

	# --- revocation: the next request is stopped
	out=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $API_KEY" \
		-H "X-Stepup-Session: $s" "$SU/api/v1/session")
	is "[$m] DELETE /api/v1/session: 204" "$out" 204
	get "$j" "$APP$F_CONF"
	is "[$m] revoked session: the next request is sent to step-up again" "$HOP_CODE" 302
	hasnt "[$m] revoked session: no file" "$HOP_BODY" "$MARK_CONF"
	has "[$m] revoked session: to the start URL" "$HOP_LOC" "$SU/stepup/start?t="

	# --- a session cookie planted before the step-up is never elevated
	j=$TMP/jar2-$m
	local planted=planted-by-attacker-$m-0123456789abcdef
	printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tstepup_session\t%s\n' "$planted" >"$j"
	walk "$j" "$APP$F_Q3" "$m, planted cookie"
	is "[$m] planted cookie: the user still gets the file after step-up" "$HOP_CODE" 200
	is "[$m] planted cookie: the planted session is not elevated" "$(elevations "$planted")" 0
	s=$(jar_session "$j")
	if [ -n "$s" ] && [ "$s" != "$planted" ]; then ok "[$m] planted cookie: replaced by a fresh session"; else notok "[$m] planted cookie: replaced by a fresh session (got '$s')"; fi

	# --- managed device: client certificate over mutual TLS
	local tls=(--cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key")
	get "$TMP/jar3-$m" "$APPS$F_CONF" "${tls[@]}"
	is "[$m] managed device (client certificate): labelled file 200 without step-up" "$HOP_CODE" 200
	is "[$m] managed device: the file's content" "$HOP_BODY" "$SECRET_CONF"
	get "$TMP/jar3-$m" "$APPS$F_CONF" --cacert "$CERTS/ca.crt" --cert "$CERTS/rogue.crt" --key "$CERTS/rogue.key"
	hasnt "[$m] a certificate from another CA: no file" "$HOP_BODY" "$MARK_CONF"
	is "[$m] a certificate from another CA: nginx refuses it (400)" "$HOP_CODE" 400
	get "$TMP/jar4-$m" "$APPS$F_CONF" --cacert "$CERTS/ca.crt" -H 'X-Device-Tags: valid_client_cert'
	is "[$m] https without a certificate, client-sent X-Device-Tags: step-up" "$HOP_CODE" 302
	get "$TMP/jar4-$m" "$APP$F_CONF" -H 'X-Device-Tags: valid_client_cert, compliant' \
		-H 'X-Stepup-Context: none' -H "X-Original-URI: $F_PUB" -H "X-File-Label: "
	is "[$m] http, client-sent X-Device-Tags, X-Stepup-Context, X-Original-URI, X-File-Label: step-up" "$HOP_CODE" 302
	hasnt "[$m] client-sent headers: no file" "$HOP_BODY" "$MARK_CONF"
	walk "$TMP/jar5-$m" "$APPS$F_CONF" "$m, https" --cacert "$CERTS/ca.crt"
	is "[$m] https unmanaged device: step-up, then the file" "$HOP_CODE" 200
	has "[$m] https unmanaged device: the file's content" "$HOP_BODY" "$MARK_CONF"

	# --- blocking policy (explicit mode names no context for it: the policies decide)
	get "$TMP/jar6-$m" "$APP$F_HIGH"
	is "[$m] Highly Confidential, unmanaged: 403" "$HOP_CODE" 403
	has "[$m] 403 shows the blocked page" "$HOP_BODY" "Blocked by policy"
	hasnt "[$m] 403: no file" "$HOP_BODY" "$MARK_HIGH"
	get "$TMP/jar2-$m" "$APP$F_HIGH"
	is "[$m] Highly Confidential after a step-up: still 403" "$HOP_CODE" 403
	get "$TMP/jar3-$m" "$APPS$F_HIGH" "${tls[@]}"
	is "[$m] Highly Confidential from a managed device: still 403" "$HOP_CODE" 403
	hasnt "[$m] managed device, 403: no file" "$HOP_BODY" "$MARK_HIGH"
	get "$TMP/jar6-$m" "$APP/files/highly-confidential/../highly-confidential/merger-plan.txt"
	is "[$m] Highly Confidential through a dot-dot path: 403" "$HOP_CODE" 403

	# --- path tricks never yield a labelled file without step-up
	local p
	for p in "/files/confidential/../confidential/salaries.csv" "//files/confidential/salaries.csv" \
		"/files/public/../confidential/salaries.csv" "/files/./confidential/salaries.csv" \
		"/files/%2e%2e/files/confidential/salaries.csv" "/files/public/%2e%2e/confidential/salaries.csv" \
		"/files/confidential/%73alaries.csv" "/files%2fconfidential%2fsalaries.csv" \
		"/files/confidential//salaries.csv" "/files/confidential/salaries.csv?x=/files/public/" \
		"/files/confidential/salaries.csv#x" "/%66iles/confidential/salaries.csv" \
		"/files/reports/../reports/q3-forecast.txt" "/files/reports/q3%2dforecast.txt" \
		"/files/CONFIDENTIAL/salaries.csv" "/files/confidential/salaries.csv/" \
		"/files/confidential/salaries.csv%00.txt" "/files/confidential/salaries.csv;.txt"; do
		get "$TMP/jar7-$m" "$APP$p"
		case "$HOP_BODY" in
		*CONFIDENTIAL-*) notok "[$m] path trick $p: never the file (got $HOP_CODE with the file)" ;;
		*) ok "[$m] path trick $p: not the file ($HOP_CODE)" ;;
		esac
	done
	# the normalising tricks land on the labelled file: they must be sent to step-up
	for p in "/files/confidential/../confidential/salaries.csv" "//files/confidential/salaries.csv" \
		"/files/%2e%2e/files/confidential/salaries.csv" "/files/confidential/%73alaries.csv"; do
		get "$TMP/jar7-$m" "$APP$p"
		if [ "$HOP_CODE" = 302 ] || [ "$HOP_CODE" = 500 ]; then ok "[$m] $p: refused or sent to step-up ($HOP_CODE)"; else notok "[$m] $p: refused or sent to step-up (got $HOP_CODE)"; fi
	done
	# a Host that is not an allowed return origin: no start URL to it, no file
	get "$TMP/jar7-$m" "$APP$F_CONF" -H 'Host: evil.example:8088'
	hasnt "[$m] foreign Host: no file" "$HOP_BODY" "$MARK_CONF"
	hasnt "[$m] foreign Host: no redirect to it" "$HOP_LOC" "evil.example"
	is "[$m] foreign Host: the error page (stepupd refuses the return URL)" "$HOP_CODE" 500

	# --- stepupd answers something unusable: the error page, never the file
	get "$TMP/jar8-$m" "$APP$F_CONF" -H "Cookie: stepup_session=$(printf 'x%.0s' $(seq 300))"
	hasnt "[$m] an over-long session cookie: no file" "$HOP_BODY" "$MARK_CONF"
	case $HOP_CODE in
	302 | 500) ok "[$m] an over-long session cookie: step-up or the error page ($HOP_CODE)" ;;
	*) notok "[$m] an over-long session cookie: step-up or the error page (got $HOP_CODE)" ;;
	esac
	get "$TMP/jar8-$m" "$APP$F_CONF" -I
	is "[$m] HEAD of a labelled file: sent to step-up too" "$HOP_CODE" 302

	stop_nginx
}

for mode in $MODES; do
	run_mode "$mode"
done

# --- stepupd down: an error page, never the file (last: it stops stepupd)
start_nginx "${MODES%% *}" || true
get "$TMP/jar9" "$APP$F_PUB"
is "stepupd up: unlabelled file 200" "$HOP_CODE" 200
kill -TERM "$STEPUPD_PID"
wait "$STEPUPD_PID" 2>/dev/null
for p in "$F_CONF" "$F_PUB"; do
	get "$TMP/jar9" "$APP$p"
	is "stepupd down, $p: 500" "$HOP_CODE" 500
	has "stepupd down, $p: the error page" "$HOP_BODY" "Access check unavailable"
	hasnt "stepupd down, $p: never the file" "$HOP_BODY" "$(head -c 20 "$WWW$p")"
done
get "$TMP/jar1-${MODES%% *}" "$APPS$F_CONF" --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key"
is "stepupd down, managed device: 500 too" "$HOP_CODE" 500
hasnt "stepupd down, managed device: never the file" "$HOP_BODY" "$MARK_CONF"
stop_nginx
if grep -qE '\[(alert|emerg)\]' "$TMP/nginx/error.log" 2>/dev/null; then
	notok "nginx logged no alert"; grep -E '\[(alert|emerg)\]' "$TMP/nginx/error.log" | sed 's/^/# /'
else
	ok "nginx logged no alert"
fi
if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$TMP/stepupd.log"; then
	notok "stepupd ran without a sanitizer report"; grep -m5 -E 'Sanitizer|runtime error' "$TMP/stepupd.log" | sed 's/^/# /'
else
	ok "stepupd ran without a sanitizer report"
fi
done_testing
