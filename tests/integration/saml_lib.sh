#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# SAML helpers for the integration tests, on top of lib.sh (sourced, not
# run): throwaway keys (certs/make-test-certs.sh DIR saml), the mock SAML
# IdP (tests/mock/mock_saml.c), a stepupd config with SAML providers and
# contexts, and a curl "browser" that walks start -> IdP -> auto-POST form
# -> ACS. The mock fetches stepupd's SP metadata on its first /sso, and
# writes its own metadata before stepupd starts.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CR_PPT=urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport
CR_MFA=urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract

# start_mock_saml: sets SAML_PORT and SAML (base URL); STEPUPD_PORT must be chosen first
start_mock_saml() {
	SAML_PORT=$(free_port)
	SAML=http://127.0.0.1:$SAML_PORT
	bash "$ROOT/certs/make-test-certs.sh" "$TMP/certs" saml || { echo "# cannot make test keys"; exit 1; }
	"$ROOT/$BUILD/mock_saml" --port "$SAML_PORT" --key "$TMP/certs/idp.key" --cert "$TMP/certs/idp.crt" \
		--evil-key "$TMP/certs/evil-idp.key" --evil-cert "$TMP/certs/evil-idp.crt" \
		--sp-metadata-url "http://127.0.0.1:$STEPUPD_PORT/saml/metadata" \
		--metadata-out "$TMP/idp-metadata.xml" >"$TMP/mock_saml.log" 2>&1 &
	PIDS+=($!)
	wait_http "$SAML/metadata" || { echo "# mock SAML IdP did not start"; cat "$TMP/mock_saml.log"; exit 1; }
}

# write_saml_conf: stepupd with two SAML providers (NameID subject; mail
# attribute subject) on the same IdP and SP identity, and four contexts
write_saml_conf() {
	mkdir -p "$TMP/var"
	echo "tests:$API_KEY" >"$TMP/api.keys"
	chmod 600 "$TMP/api.keys"
	cat >"$TMP/stepupd.conf" <<CONF
[server]
listen = 127.0.0.1:$STEPUPD_PORT
public_url = http://127.0.0.1:$STEPUPD_PORT
trusted_proxies = 127.0.0.1/32
allowed_return_origins = http://127.0.0.1:8088 http://app.test:8088

[database]
path = ./var/stepupd.db

[secrets]
key_file = ./var/secret.key

[api]
key_file = ./api.keys

[provider "idp"]
type = saml
metadata_file = ./idp-metadata.xml
sp_entity_id = http://127.0.0.1:$STEPUPD_PORT/saml/metadata
sp_key_file = ./certs/sp.key
sp_cert_file = ./certs/sp.crt
class_ref_order = $CR_PPT $CR_MFA

[provider "idp-mail"]
type = saml
metadata_file = ./idp-metadata.xml
sp_entity_id = http://127.0.0.1:$STEPUPD_PORT/saml/metadata
sp_key_file = ./certs/sp.key
sp_cert_file = ./certs/sp.crt
class_ref_order = $CR_PPT $CR_MFA
subject_attribute = mail

[context "saml-mfa"]
provider = idp
class_refs = $CR_MFA
comparison = minimum
lifetime = 600

[context "saml-pwd"]
provider = idp
class_refs = $CR_PPT
comparison = exact

[context "saml-better"]
provider = idp
class_refs = $CR_PPT
comparison = better

[context "saml-mail"]
provider = idp-mail
class_refs = $CR_MFA
comparison = minimum
CONF
}

# saml_setup: ports, keys, mock IdP, config, stepupd
saml_setup() {
	STEPUPD_PORT=$(free_port)
	start_mock_saml
	write_saml_conf
	start_stepupd
}

saml_user() { curl -s -o /dev/null "$SAML/_mock/user?set=$1"; }
saml_fault() { curl -s -o /dev/null -w '%{http_code}' "$SAML/_mock/fault?set=$1"; }

# form_field FILE NAME: a field of the IdP's auto-POST form ("action" for its action)
form_field() {
	python3 - "$1" "$2" <<'PY'
import sys, html.parser
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.action = ""; self.f = {}
    def handle_starttag(self, t, a):
        a = dict(a)
        if t == "form": self.action = a.get("action") or ""
        if t == "input": self.f[a.get("name")] = a.get("value") or ""
p = P(); p.feed(open(sys.argv[1]).read())
print(p.action if sys.argv[2] == "action" else p.f.get(sys.argv[2], ""))
PY
}

# acs_post JAR ACTION SAMLRESPONSE RELAYSTATE: the browser's POST to the ACS; sets HOP_*
acs_post() {
	local out
	out=$(curl -s -b "$1" -c "$1" -D "$TMP/hop.hdr" -o "$TMP/hop.body" -w '%{http_code} %{redirect_url}' \
		--data-urlencode "SAMLResponse=$3" --data-urlencode "RelayState=$4" "$2")
	HOP_CODE=${out%% *}
	HOP_LOC=${out#* }
	HOP_BODY=$(cat "$TMP/hop.body")
	HOP_HDR=$(tr -d '\r' <"$TMP/hop.hdr")
}

# saml_browse JAR START_URL: start -> IdP -> ACS. Leaves the ACS answer in
# HOP_*, the AuthnRequest URL in SSO_URL and the form in SAML_ACTION,
# SAML_RESPONSE, SAML_RELAY (empty when a hop failed)
saml_browse() {
	local jar=$1
	SSO_URL= SAML_ACTION= SAML_RESPONSE= SAML_RELAY=
	hop "$jar" "$2"
	[ "$HOP_CODE" = 302 ] || return 0
	SSO_URL=$HOP_LOC
	hop "$jar" "$SSO_URL"
	[ "$HOP_CODE" = 200 ] || return 0
	echo "$HOP_BODY" >"$TMP/form.html"
	SAML_ACTION=$(form_field "$TMP/form.html" action)
	SAML_RESPONSE=$(form_field "$TMP/form.html" SAMLResponse)
	SAML_RELAY=$(form_field "$TMP/form.html" RelayState)
	acs_post "$jar" "$SAML_ACTION" "$SAML_RESPONSE" "$SAML_RELAY"
}

# authn_request URL: the decoded (inflated) AuthnRequest XML of a Redirect-binding URL
authn_request() {
	python3 -c 'import sys,zlib,base64,urllib.parse as u
q=u.parse_qs(u.urlparse(sys.argv[1]).query)
print(zlib.decompress(base64.b64decode(q["SAMLRequest"][0]),-15).decode())' "$1"
}

# query_param URL NAME
query_param() {
	python3 -c 'import sys,urllib.parse as u
print(u.parse_qs(u.urlparse(sys.argv[1]).query).get(sys.argv[2],[""])[0])' "$1" "$2"
}

# session_json SESSION: GET /api/v1/session body
session_json() {
	curl -s -H "Authorization: Bearer $API_KEY" -H "X-Stepup-Session: $1" "$SU/api/v1/session"
}
