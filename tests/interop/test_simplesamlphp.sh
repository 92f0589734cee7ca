#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Interop: stepupd's SAML SP against a real SAML IdP, SimpleSAMLphp 1.19
# (Debian packages simplesamlphp php8.2-cli php8.2-cgi php8.2-xml
# php8.2-mbstring), run with PHP's built-in server on 127.0.0.1. Prints TAP
# lines. See tests/interop/saml/README.md.
#
#   BUILD=build bash tests/interop/test_simplesamlphp.sh
#   (KEEP_TMP=1 keeps the temp dir: configs, keys, logs of stepupd and the IdP)
#
# Users at the IdP (exampleauth:UserPass; the IdP applies RequestedAuthnContext
# with a core:PHP authproc filter): alice can do MFA and gets the requested
# MobileTwoFactorContract; bob has a password only and the IdP answers a
# request for MFA with the status NoAuthnContext.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
TOOL=$HERE/saml/samltool.py
# shellcheck source=saml/ssp.sh
. "$HERE/saml/ssp.sh"

AC=urn:oasis:names:tc:SAML:2.0:ac:classes
MFA=$AC:MobileTwoFactorContract
PPT=$AC:PasswordProtectedTransport

T=$(mktemp -d "${TMPDIR:-/tmp}/stepupd-interop-ssp.XXXXXX") || exit 1
SD_PID=
cleanup() {
	local st=$?
	stop_pid "$SD_PID"
	ssp_stop
	if [ "$failed" -ne 0 ] || [ "$st" -ne 0 ]; then
		for f in stepupd.err ssp/php.log ssp/work/log/simplesamlphp.log; do
			[ -s "$T/$f" ] && { echo "# --- last lines of $f"; tail -30 "$T/$f" | diag; }
		done
	fi
	if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- prerequisites
command -v curl >/dev/null || bail "curl is installed"
command -v python3 >/dev/null || bail "python3 is installed"
missing=$(ssp_missing)
[ -z "$missing" ] || bail "SimpleSAMLphp can run (missing: ${missing//$'\n'/ })"
[ -x "$STEPUPD" ] || bail "stepupd is built ($STEPUPD)"

# three free loopback ports: the IdP, stepupd, the (never contacted) return origin
read -r IDP_PORT SD_PORT RET_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))
for x in s: x.close()')
[ -n "${RET_PORT:-}" ] || bail "picked free ports"
SD=http://127.0.0.1:$SD_PORT
RET=http://127.0.0.1:$RET_PORT
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

# ---- the IdP
ssp_start "$T/ssp" "$IDP_PORT" || bail "SimpleSAMLphp started on 127.0.0.1:$IDP_PORT and serves its metadata"
ok "SimpleSAMLphp started on $SSP and serves its metadata"

# ---- stepupd: throwaway SP key and certificate, the IdP's metadata as fetched
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=stepupd-test-sp" \
	-keyout "$T/sp.key" -out "$T/sp.crt" 2>/dev/null || bail "openssl made the SP key"
cp "$T/ssp/idp-metadata.xml" "$T/idp-metadata.xml"
printf 'test:%s\n' "$TOKEN" >"$T/api.keys"
chmod 600 "$T/api.keys" "$T/sp.key"
cat >"$T/stepupd.conf" <<EOF
[server]
listen = 127.0.0.1:$SD_PORT
public_url = $SD
allowed_return_origins = $RET

[database]
path = ./stepupd.db

[secrets]
key_file = ./secret.key

[api]
key_file = ./api.keys

[provider "idp"]
type = saml
metadata_file = ./idp-metadata.xml
sp_entity_id = $SD/saml/metadata
sp_key_file = ./sp.key
sp_cert_file = ./sp.crt
class_ref_order = $AC:Password $PPT $MFA

[context "saml-mfa"]
provider = idp
class_refs = $MFA
comparison = minimum

[context "saml-pwd"]
provider = idp
class_refs = $PPT
comparison = exact
EOF

sd_start "the SAML interop config"

# ---- the IdP learns the SP from stepupd's own metadata
code=$(curl -s -o "$T/sp-metadata.xml" -w '%{http_code}' --max-time 10 "$SD/saml/metadata")
check "GET /saml/metadata -> 200 (got $code)" [ "$code" = 200 ]
if sp=$(python3 "$TOOL" spmeta "$T/sp-metadata.xml" "$T/sp-remote.json" 2>"$T/spmeta.err"); then
	check "SP metadata: entityID is sp_entity_id and the HTTP-POST ACS is public_url/saml/acs ($sp)" \
		[ "$sp" = "$SD/saml/metadata $SD/saml/acs" ]
	ssp_set_sp "$T/sp-remote.json"
else
	notok "SP metadata has an entityID, an HTTP-POST ACS and a signing certificate"
	diag <"$T/spmeta.err"
fi
# the certificate in the metadata is the one configured
meta_cert=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cert"])' "$T/sp-remote.json" 2>/dev/null)
conf_cert=$(sed '/^-----/d' "$T/sp.crt" | tr -d '\n')
check "SP metadata carries sp_cert_file as its signing certificate" [ -n "$meta_cert" -a "$meta_cert" = "$conf_cert" ]

# ---- helpers
# json FILE PY-EXPR: evaluates EXPR with j = parsed FILE; exit 0 when truthy
json() {
	python3 -c '
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(2)
try:
    r = eval(sys.argv[2])
except Exception:
    sys.exit(3)
if isinstance(r, str):
    print(r)
sys.exit(0 if r else 1)' "$1" "$2"
}
# check_status session context -> CODE, as a proxy in front of the return origin asks
check_status() {
	CODE=$(curl -s -o "$T/check.body" -D "$T/check.hdr" -w '%{http_code}' --max-time 10 \
		-H "Host: 127.0.0.1:$RET_PORT" -H "X-Original-URI: /files/report.pdf" \
		-H 'X-Original-Method: GET' \
		-H "X-Stepup-Session: $1" -H "X-Stepup-Context: $2" "$SD/check")
}
# start_stepup session user context return_to: POST /api/v1/stepups; sets START_URL
start_stepup() {
	local body user
	user=$( [ -n "$2" ] && printf '"%s"' "$2" || echo null)
	body=$(printf '{"session":"%s","user":%s,"context":"%s","return_to":"%s"}' "$1" "$user" "$3" "$4")
	api POST /api/v1/stepups "" "$body"
	START_URL=
	if [ "$CODE" = 201 ] && START_URL=$(json "$T/resp" 'isinstance(j.get("url"), str) and j["url"]'); then
		case $START_URL in "$SD/stepup/start?t="?*) return 0 ;; esac
	fi
	notok "${2:-anyone}/$3: POST /api/v1/stepups -> 201 with a start URL (got $CODE)"
	head -c 500 "$T/resp" | diag
	return 1
}
# to_idp label: GET the start URL with the browser's jar; checks the redirect
# to the IdP and the AuthnRequest it carries; sets SSO_URL
to_idp() {
	local label=$1 cmp=$2 classes=$3 out code
	out=$(curl -s -b "$T/jar" -c "$T/jar" -o "$T/page" --max-time 10 -w '%{http_code} %{redirect_url}' "$START_URL")
	code=${out%% *} SSO_URL=${out#* }
	case "$code $SSO_URL" in
	"302 $SSP/saml2/idp/SSOService.php?"*) ok "$label: /stepup/start -> 302 to the IdP's SSO service" ;;
	*) notok "$label: /stepup/start -> 302 to the IdP's SSO service (got $code '$SSO_URL')"
		head -c 600 "$T/page" | diag; return 1 ;;
	esac
	local want="request=AuthnRequest ForceAuthn=true Comparison=$cmp classes=$classes acs=$SD/saml/acs binding=HTTP-POST relay=yes sigalg=http://www.w3.org/2001/04/xmldsig-more#rsa-sha256 signature=yes"
	local got
	got=$(python3 "$TOOL" authnreq "$SSO_URL" 2>&1)
	if [ "$got" = "$want" ]; then
		ok "$label: signed AuthnRequest (RSA-SHA256) with ForceAuthn, $cmp $classes, the ACS, RelayState"
	else
		notok "$label: signed AuthnRequest as expected"
		printf 'got:  %s\nwant: %s\n' "$got" "$want" | diag
	fi
	if [ -z "${SIG_SHOWN:-}" ]; then
		# the IdP verifies that signature (validate.authnrequest): without it, it refuses
		SIG_SHOWN=1
		code=$(curl -s -o "$T/nosig.html" --max-time 10 -w '%{http_code}' \
			"$(sed 's/&Signature=[^&]*//' <<<"$SSO_URL")")
		check "$label: the IdP checks that signature (the request without it is refused: $code)" \
			grep -q 'no signature found' "$T/nosig.html"
	fi
}
# at_idp label user password: login at the IdP; sets FORM_ACTION, leaves the form in $T/form/
at_idp() {
	local label=$1
	rm -rf "$T/form"
	if ! ssp_login "$T/jar" "$SSO_URL" "$2" "$3" "$T/idp.html"; then
		notok "$label: IdP login as $2 ($SSP_ERR)"
		head -c 800 "$T/idp.html" | diag
		return 1
	fi
	if FORM_ACTION=$(python3 "$TOOL" form "$T/idp.html" "$T/form" 2>"$T/form.err"); then
		check "$label: the IdP answers with an auto-POST form to stepupd's ACS" [ "$FORM_ACTION" = "$SD/saml/acs" ]
	else
		notok "$label: the IdP answers with an auto-POST form carrying a SAMLResponse"
		{ cat "$T/form.err"; head -c 800 "$T/idp.html"; } | diag
		return 1
	fi
	SUMMARY=$(python3 "$TOOL" summary "$T/form/response.xml" 2>&1)
}
# to_acs: POST the form to the ACS with the browser's jar; sets ACS_CODE, ACS_LOC, page in $T/acs.html
to_acs() {
	local out
	out=$(curl -s -b "$T/jar" -c "$T/jar" -o "$T/acs.html" --max-time 20 \
		-w '%{http_code} %{redirect_url}' --data-urlencode "SAMLResponse@$T/form/response.b64" \
		--data-urlencode "RelayState@$T/form/relay" "$FORM_ACTION")
	ACS_CODE=${out%% *} ACS_LOC=${out#* }
}
no_elevation() { # label session context
	check_status "$2" "$3"
	check "$1: /check stays 401 (got $CODE)" [ "$CODE" = 401 ]
	api GET /api/v1/session "$2"
	check "$1: /api/v1/session lists no elevation" json "$T/resp" 'j["elevations"] == []'
}

# stepup_ok session user password context comparison classes expected-acr
stepup_ok() {
	local sess=$1 user=$2 pass=$3 ctx=$4 cmp=$5 classes=$6 acr=$7 ret="$RET/done/$4?x=1"
	local label="$user/$ctx"
	: >"$T/jar"
	check_status "$sess" "$ctx"
	check "$label: /check before the step-up -> 401 (got $CODE)" [ "$CODE" = 401 ]
	local loc
	loc=$(hdr X-Stepup-Location)
	case $loc in
	"$SD/stepup/start?t="?*) ok "$label: the 401 carries X-Stepup-Location" ;;
	*) notok "$label: the 401 carries X-Stepup-Location (got '$loc')" ;;
	esac
	start_stepup "$sess" "$user" "$ctx" "$ret" || return 1
	to_idp "$label" "$cmp" "$classes" || return 1
	at_idp "$label" "$user" "$pass" || return 1
	check "$label: the IdP's Response: Success, NameID $user, class $acr ($SUMMARY)" \
		grep -q "^status=Success status2=- nameid=$user class=$acr " <<<"$SUMMARY"
	to_acs
	if [ "$ACS_CODE" = 303 ] && [ "$ACS_LOC" = "$ret" ]; then
		ok "$label: POST /saml/acs -> 303 to return_to"
	else
		notok "$label: POST /saml/acs -> 303 to return_to (got $ACS_CODE '$ACS_LOC')"
		head -c 800 "$T/acs.html" | diag
	fi
	check_status "$sess" "$ctx"
	check "$label: /check with the session and context -> 200 (got $CODE)" [ "$CODE" = 200 ]
	api GET /api/v1/session "$sess"
	if [ "$CODE" = 200 ] && json "$T/resp" "j['user'] == '$user' and any(e['context'] == '$ctx'
			and e['acr'] == '$acr' and e['provider'] == 'idp' and isinstance(e['auth_time'], int)
			and e['expires_at'] > __import__('time').time() for e in j['elevations'])" >/dev/null; then
		ok "$label: /api/v1/session lists the elevation (user $user, acr $acr, provider idp)"
	else
		notok "$label: /api/v1/session lists the elevation (user $user, acr $acr, provider idp) (got $CODE)"
		head -c 800 "$T/resp" | diag
	fi
	# the pending flow, the Response and the start URL are single-use
	to_acs
	check "$label: the same Response posted again -> 4xx, no redirect (got $ACS_CODE)" \
		[ "${ACS_CODE:0:1}" = 4 -a -z "$ACS_LOC" ]
	code=$(curl -s -b "$T/jar" -c "$T/jar" -o /dev/null --max-time 10 -w '%{http_code}' "$START_URL")
	check "$label: replayed start URL -> 4xx (got $code)" [ "${code:0:1}" = 4 ]
}

# stepup_refused session user password context comparison classes why page-regex [named-user]
stepup_refused() {
	local sess=$1 user=$2 pass=$3 ctx=$4 cmp=$5 classes=$6 why=$7 re=$8 named=${9:-$2}
	local label="$user/$ctx"
	[ "$named" = "$user" ] || label="$user as $named/$ctx"
	: >"$T/jar"
	start_stepup "$sess" "$named" "$ctx" "$RET/done/$ctx" || return 1
	to_idp "$label" "$cmp" "$classes" || return 1
	at_idp "$label" "$user" "$pass" || return 1
	case $why in
	NoAuthnContext)
		check "$label: the IdP answers Responder/NoAuthnContext ($SUMMARY)" \
			grep -q '^status=Responder status2=NoAuthnContext nameid=- ' <<<"$SUMMARY" ;;
	*)
		check "$label: the IdP's Response is a Success for $user ($SUMMARY)" \
			grep -q "^status=Success status2=- nameid=$user " <<<"$SUMMARY" ;;
	esac
	to_acs
	if [ "${ACS_CODE:0:1}" = 4 ] && [ -z "$ACS_LOC" ]; then
		ok "$label: POST /saml/acs -> $ACS_CODE error page, no redirect"
	else
		notok "$label: POST /saml/acs -> 4xx error page, no redirect (got $ACS_CODE '$ACS_LOC')"
	fi
	check "$label: the error page says why ($why: /$re/)" grep -qiE "$re" "$T/acs.html"
	no_elevation "$label" "$sess" "$ctx"
}

# ---- alice reaches MFA
stepup_ok sess-a1 alice alice-pass saml-mfa minimum "$MFA" "$MFA"

# ---- bob cannot: the IdP says NoAuthnContext; stepupd shows it and elevates nothing
stepup_refused sess-b1 bob bob-pass saml-mfa minimum "$MFA" NoAuthnContext \
	'NoAuthnContext|authentication context'

# ---- bob can reach the password context (exact PasswordProtectedTransport)
stepup_ok sess-b2 bob bob-pass saml-pwd exact "$PPT" "$PPT"

# ---- the start request named carol, alice logs in: the subject does not match
stepup_refused sess-c1 alice alice-pass saml-mfa minimum "$MFA" subject 'subject|user' carol

# ---- stepupd stops cleanly
stop_pid "$SD_PID"
SD_PID=
check "stepupd exits 0 on SIGTERM within 10 s (status $STOP_ST)" [ "$STOP_ST" = 0 ]

echo "1..$n"
[ "$failed" -eq 0 ]
