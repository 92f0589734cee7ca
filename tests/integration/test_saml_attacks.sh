#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The classic attacks on a SAML SP, built from a real IdP's signed Response.
#
# For each attack: start a step-up for context saml-mfa at stepupd, follow it
# to SimpleSAMLphp (tests/interop/saml/), log alice in (she can do MFA, so the
# IdP's Response is genuine and would be accepted), take the Response from the
# IdP's auto-POST form WITHOUT posting it, turn it into the attack with
# tests/integration/saml_attacks.py, and post the attack for that same
# pending flow (same browser cookie jar, same RelayState). Each must end in a
# 4xx error page, no redirect, no elevation (/check 401, /api/v1/session
# empty), and the reason stepupd gives (its error page and its log) must name
# the check that is expected to catch it. The genuine Response is posted once
# (accepted) and then again (refused: replay).
#
# Besides, with xmlsec1 the test shows that the attacks are real: a naive SP
# (xmlsec1 on the first Signature, then the NameID of the first Assertion)
# accepts XSW2-5, the comment injection and, trusting KeyInfo, the faked
# certificate.
#
# Needs: curl, python3, openssl, xmlsec1, and SimpleSAMLphp (Debian packages
# simplesamlphp php8.2-cli php8.2-cgi php8.2-xml php8.2-mbstring).
# Loopback only: a canary HTTP server on 127.0.0.1 tells whether stepupd
# fetched an external entity.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
# shellcheck source=../interop/saml/ssp.sh
. "$ROOT/tests/interop/saml/ssp.sh"
trap 'ssp_stop; cleanup' EXIT
trap 'exit 130' INT TERM
GEN=$HERE/saml_attacks.py
TOOL=$ROOT/tests/interop/saml/samltool.py
AC=urn:oasis:names:tc:SAML:2.0:ac:classes
MFA=$AC:MobileTwoFactorContract
PPT=$AC:PasswordProtectedTransport
diag() { sed 's/^/# /'; }
bail() { notok "$*"; for f in stepupd.log ssp/php.log; do [ -s "$TMP/$f" ] && tail -20 "$TMP/$f" | diag; done
	done_testing; exit 1; }

# ---- prerequisites
missing=$(ssp_missing)
command -v xmlsec1 >/dev/null || missing="$missing xmlsec1"
[ -z "$missing" ] || bail "prerequisites installed (missing: ${missing//$'\n'/ })"
[ -x "$ROOT/$BUILD/stepupd" ] || bail "stepupd is built ($ROOT/$BUILD/stepupd)"

# ---- the IdP, stepupd, the canary
IDP_PORT=$(free_port)
ssp_start "$TMP/ssp" "$IDP_PORT" || bail "SimpleSAMLphp started on 127.0.0.1:$IDP_PORT"
ok "SimpleSAMLphp started on $SSP"

STEPUPD_PORT=$(free_port)
SU=http://127.0.0.1:$STEPUPD_PORT
mkdir -p "$TMP/var" "$TMP/canary"
echo "tests:$API_KEY" >"$TMP/api.keys"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=stepupd-test-sp" \
	-keyout "$TMP/sp.key" -out "$TMP/sp.crt" 2>/dev/null || bail "openssl made the SP key"
# the attacker's key: a self-signed certificate with the IdP's subject name
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=stepupd-test-idp" \
	-keyout "$TMP/evil.key" -out "$TMP/evil.crt" 2>/dev/null || bail "openssl made the attacker's key"
cp "$TMP/ssp/idp-metadata.xml" "$TMP/idp-metadata.xml"
cat >"$TMP/stepupd.conf" <<CONF
[server]
listen = 127.0.0.1:$STEPUPD_PORT
public_url = $SU
trusted_proxies = 127.0.0.1/32
allowed_return_origins = http://127.0.0.1:8088

[database]
path = ./var/stepupd.db

[secrets]
key_file = ./var/secret.key

[api]
key_file = ./api.keys

[provider "idp"]
type = saml
metadata_file = ./idp-metadata.xml
sp_entity_id = $SU/saml/metadata
sp_key_file = ./sp.key
sp_cert_file = ./sp.crt
class_ref_order = $AC:Password $PPT $MFA

[context "saml-mfa"]
provider = idp
class_refs = $MFA
comparison = minimum
CONF
start_stepupd
ok "stepupd started on $SU"
curl -s -o "$TMP/sp-metadata.xml" "$SU/saml/metadata"
python3 "$TOOL" spmeta "$TMP/sp-metadata.xml" "$TMP/sp-remote.json" >/dev/null 2>&1 ||
	bail "stepupd's GET /saml/metadata is usable SP metadata"
ssp_set_sp "$TMP/sp-remote.json"

CANARY_PORT=$(free_port)
CANARY=http://127.0.0.1:$CANARY_PORT/
python3 -m http.server --bind 127.0.0.1 --directory "$TMP/canary" "$CANARY_PORT" \
	>"$TMP/canary.log" 2>&1 &
PIDS+=($!)
wait_http "$CANARY" || bail "canary HTTP server started"
for _ in $(seq 1 20); do [ -s "$TMP/canary.log" ] && break; sleep 0.1; done
[ -s "$TMP/canary.log" ] || bail "the canary logs the requests it gets"
: >"$TMP/canary.log"

# ---- helpers
# flow LABEL SESSION NAMED-USER LOGIN PASSWORD WANT-SUMMARY [idp-initiated]:
# a new pending flow and the IdP's genuine answer for it, not posted; sets
# JAR and leaves the form in $TMP/f-LABEL/. With idp-initiated, the browser
# does not follow stepupd's AuthnRequest but asks the IdP for an unsolicited
# Response (IdP-initiated SSO) with the pending flow's RelayState.
flow() {
	local label=$1 sess=$2 user=$3 login=$4 pass=$5 want=$6 how=${7:-} url sso
	JAR=$TMP/jar-$label
	: >"$JAR"
	url=$(start_url "$sess" "$user" saml-mfa) || { notok "$label: POST /api/v1/stepups"; return 1; }
	hop "$JAR" "$url"
	case "$HOP_CODE $HOP_LOC" in
	"302 $SSP/saml2/idp/SSOService.php?"*) ;;
	*) notok "$label: /stepup/start -> 302 to the IdP (got $HOP_CODE '$HOP_LOC')"; return 1 ;;
	esac
	sso=$HOP_LOC
	if [ "$how" = idp-initiated ]; then
		local relay
		relay=$(python3 "$TOOL" param "$HOP_LOC" RelayState)
		sso="$SSP/saml2/idp/SSOService.php?spentityid=$(python3 -c 'import sys, urllib.parse as u
print(u.quote(sys.argv[1], safe=""))' "$SU/saml/metadata")&RelayState=$relay"
	fi
	if ! ssp_login "$JAR" "$sso" "$login" "$pass" "$TMP/idp-$label.html"; then
		notok "$label: $login logs in at the IdP ($SSP_ERR)"
		return 1
	fi
	if ! python3 "$TOOL" form "$TMP/idp-$label.html" "$TMP/f-$label" >/dev/null 2>&1; then
		notok "$label: the IdP answers with a SAMLResponse form"
		return 1
	fi
	local s
	s=$(python3 "$TOOL" summary "$TMP/f-$label/response.xml")
	case $s in
	"$want"*) ;;
	*) notok "$label: the IdP's genuine answer starts with '$want' (got '$s')"; return 1 ;;
	esac
}
# genuine LABEL SESSION NAMED-USER: alice's genuine MFA Response for a new flow
genuine() { flow "$1" "$2" "$3" alice alice-pass "status=Success status2=- nameid=alice class=$MFA "; }

# post LABEL FILE.xml: posts FILE (base64) with the flow's RelayState to the
# ACS; sets ACS_CODE, ACS_LOC, REASON (the error page's message and the log
# lines stepupd wrote meanwhile)
post() {
	local label=$1 xml=$2 off out
	base64 -w0 "$xml" >"$xml.b64"
	off=$(stat -c %s "$TMP/stepupd.log")
	out=$(curl -s -b "$JAR" -c "$JAR" -o "$TMP/acs-$label.html" --max-time 30 \
		-w '%{http_code} %{redirect_url}' --data-urlencode "SAMLResponse@$xml.b64" \
		--data-urlencode "RelayState@$TMP/f-$label/relay" "$SU/saml/acs")
	ACS_CODE=${out%% *} ACS_LOC=${out#* }
	sleep 0.2 # let the log line land
	PAGE_MSG=$(sed -n 's:.*<p class="error">\(.*\)</p>.*:\1:p' "$TMP/acs-$label.html" | head -1)
	REASON="$PAGE_MSG | $(tail -c +"$((off + 1))" "$TMP/stepupd.log" | grep -iE 'refus|denied|saml' | tr '\n' ' ')"
}

# refused LABEL SESSION EXPECT-REGEX: the last post was refused by the expected check
refused() {
	local label=$1 sess=$2 re=$3 m
	if [ "${ACS_CODE:0:1}" = 4 ] && [ -z "$ACS_LOC" ]; then
		ok "$label: refused with $ACS_CODE and an error page, no redirect"
	else
		notok "$label: refused with 4xx, no redirect (got $ACS_CODE '$ACS_LOC')"
	fi
	m=$(grep -oiE "$re" <<<"$REASON" | head -1)
	if [ -n "$m" ]; then
		ok "$label: caught by the check '$m' ($PAGE_MSG)"
	else
		notok "$label: caught by a check matching /$re/ (reason given: ${REASON:0:400})"
	fi
	is "$label: /check stays 401" "$(check_status "$sess" saml-mfa)" 401
	is "$label: no elevation listed" "$(elevations "$sess")" 0
}

# naive LABEL FILE WANT [--insecure]: what xmlsec1 plus a first-Assertion reader conclude
naive() {
	local label=$1 f=$2 want=$3 got
	if [ "${4:-}" = keyinfo ]; then
		got=$(python3 "$GEN" naive "$f" 2>&1)
	else
		got=$(python3 "$GEN" naive "$f" --idp-cert "$TMP/ssp/work/idp.crt" 2>&1)
	fi
	case $got in
	"$want"*) ok "$label: a naive SP ${4:+trusting KeyInfo }would conclude '$got'" ;;
	*) notok "$label: a naive SP ${4:+trusting KeyInfo }would conclude '$want' (got '$got')" ;;
	esac
}

# attack VARIANT EXPECT-REGEX [NAMED-USER]: one attack on a fresh flow. The
# *e variants start from bob's signed NoAuthnContext answer instead.
attack() {
	local v=$1 re=$2 user=${3:-} label=$1${3:+-as-$3}
	local sess=atk-$label
	LAST=/nonexistent
	case $v in
	xsw?e) flow "$label" "$sess" "$user" bob bob-pass "status=Responder status2=NoAuthnContext " ||
		return 0 ;;
	*) genuine "$label" "$sess" "$user" || return 0 ;;
	esac
	if ! python3 "$GEN" make "$v" "$TMP/f-$label/response.xml" "$TMP/f-$label/$v.xml" \
		--mfa-class "$MFA" --evil-key "$TMP/evil.key" --evil-cert "$TMP/evil.crt" \
		--canary "$CANARY" --assertion-from "$TMP/f-genuine/response.xml" 2>"$TMP/gen.err"; then
		notok "$label: built the attack"; diag <"$TMP/gen.err"; return 0
	fi
	post "$label" "$TMP/f-$label/$v.xml"
	refused "$label" "$sess" "$re"
	LAST=$TMP/f-$label/$v.xml
}

# ---- the genuine Response is accepted once, and refused when replayed
genuine genuine sess-genuine "" &&
	naive "genuine" "$TMP/f-genuine/response.xml" "OK alice $MFA"
post genuine "$TMP/f-genuine/response.xml"
if [ "$ACS_CODE" = 303 ] && [ "$ACS_LOC" = http://127.0.0.1:8088/files/report.pdf ]; then
	ok "genuine: accepted (303 to return_to)"
else
	notok "genuine: accepted (303 to return_to) (got $ACS_CODE '$ACS_LOC'; ${REASON:0:300})"
fi
is "genuine: /check -> 200" "$(check_status sess-genuine saml-mfa)" 200
post genuine "$TMP/f-genuine/response.xml"
if [ "${ACS_CODE:0:1}" = 4 ] && [ -z "$ACS_LOC" ]; then
	ok "replay: the genuine Response posted again is refused ($ACS_CODE)"
else
	notok "replay: the genuine Response posted again is refused (got $ACS_CODE '$ACS_LOC')"
fi
m=$(grep -oiE 'already used' <<<"$REASON" | head -1)
check "replay: caught by the check '${m:-?}' ($PAGE_MSG)" [ -n "$m" ]

# ---- another flow's Response, and an unsolicited (IdP-initiated) one
genuine swap-a sess-swap-a "" && genuine swap-b sess-swap-b "" &&
	cp "$TMP/f-swap-a/response.xml" "$TMP/f-swap-b/other.xml" &&
	post swap-b "$TMP/f-swap-b/other.xml" && refused swap "sess-swap-b" 'answers another request'
flow unsolicited sess-unsolicited "" alice alice-pass "status=Success status2=- nameid=alice class=" \
	idp-initiated && post unsolicited "$TMP/f-unsolicited/response.xml" &&
	refused unsolicited sess-unsolicited 'answers no request'

# ---- XML signature wrapping (the expected checks are listed in docs/saml.md)
# XSW1-8 from alice's genuine Response: two assertions in the document
attack xsw1 'exactly one assertion'
naive xsw1 "$LAST" FAIL
attack xsw2 'exactly one assertion'
naive xsw2 "$LAST" "OK admin $MFA"
attack xsw3 'exactly one assertion'
naive xsw3 "$LAST" "OK admin $MFA"
attack xsw4 'exactly one assertion'
naive xsw4 "$LAST" "OK admin $MFA"
attack xsw5 'exactly one assertion'
naive xsw5 "$LAST" "OK admin $MFA"
attack xsw6 'exactly one assertion'
naive xsw6 "$LAST" FAIL
attack xsw7 'exactly one assertion'
naive xsw7 "$LAST" FAIL
attack xsw8 'exactly one assertion'
naive xsw8 "$LAST" FAIL
# wrapping bob's signed error Response: one (forged) assertion, so the next checks must hold
attack xsw1e 'Reference does not point'
naive xsw1e "$LAST" FAIL
attack xsw2e 'Reference does not point'
naive xsw2e "$LAST" "OK admin $MFA"
attack xsw7e 'same ID'
naive xsw7e "$LAST" FAIL
attack xsw8e 'ds:Object'
naive xsw8e "$LAST" FAIL

# ---- signature exclusion, comment injection
attack sigexcl 'not signed'
naive sigexcl "$LAST" FAIL
# the victim's session is "ali"'s: a reader of the first text node sees "ali"
attack comment 'comment' ali
naive comment "$LAST" "OK ali $MFA"
# no user named: refused, or at worst elevated as "alice" (never as "ali")
ACS_CODE=
genuine comment-any sess-comment-any "" &&
	python3 "$GEN" make comment "$TMP/f-comment-any/response.xml" "$TMP/f-comment-any/c.xml" &&
	post comment-any "$TMP/f-comment-any/c.xml"
if [ "${ACS_CODE:0:1}" = 4 ]; then
	ok "comment, no user named: refused ($ACS_CODE: $PAGE_MSG)"
else
	u=$(curl -s -H "Authorization: Bearer $API_KEY" -H "X-Stepup-Session: sess-comment-any" \
		"$SU/api/v1/session" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("user"))')
	is "comment, no user named: refused, or elevated as the full text 'alice' (got $ACS_CODE)" "$u" alice
fi

# ---- DOCTYPE: bare, external entities (XXE), entity expansion
attack doctype 'DOCTYPE'
attack xxe 'DOCTYPE'
check "xxe: stepupd fetched nothing from the canary" [ ! -s "$TMP/canary.log" ]
[ -s "$TMP/canary.log" ] && diag <"$TMP/canary.log"
attack lol 'DOCTYPE'
code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$SU/healthz")
is "lol: stepupd still answers" "$code" 200

# ---- certificate faking: signed with a key whose certificate is only in KeyInfo
attack certfake 'signature check failed'
naive certfake "$LAST" FAIL
naive certfake "$LAST" "OK admin $MFA" keyinfo

# ---- the database: only the genuine step-up left a trace
is "one elevation row in the database (the genuine step-up)" \
	"$(db_count 'select count(*) from elevations')" 1
is "no elevation for the forged subjects" \
	"$(db_count "select count(*) from elevations where user in ('admin','ali')")" 0
is "one assertion ID recorded as used (the genuine one)" \
	"$(db_count 'select count(*) from saml_assertions')" 1

done_testing
