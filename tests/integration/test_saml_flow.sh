#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The SAML step-up end to end against the mock SAML IdP: the SP metadata,
# what the AuthnRequest carries, the good case (elevation, /check, the API's
# acr), the comparisons, the mail-attribute subject, replays of the ACS post
# and of the RelayState, the browser binding, malformed posts, the subject
# binding, and a session minted by stepupd.
. "$(dirname "$0")/saml_lib.sh"
saml_setup

# --- SP metadata
md=$(curl -s -D "$TMP/md.hdr" "$SU/saml/metadata")
has "metadata is served as application/samlmetadata+xml" "$(cat "$TMP/md.hdr")" "Content-Type: application/samlmetadata+xml"
has "metadata names our entityID" "$md" "entityID=\"http://127.0.0.1:$STEPUPD_PORT/saml/metadata\""
has "metadata says AuthnRequestsSigned" "$md" 'AuthnRequestsSigned="true"'
has "metadata says WantAssertionsSigned" "$md" 'WantAssertionsSigned="true"'
has "metadata names the ACS (HTTP-POST)" "$md" "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"http://127.0.0.1:$STEPUPD_PORT/saml/acs\""
has "metadata carries the signing certificate" "$md" "<ds:X509Certificate>$(sed -n '2p' "$TMP/certs/sp.crt" | cut -c1-40)"
is "metadata of an unknown provider: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$SU/saml/metadata?provider=nope")" 404
is "metadata of the second provider: 200" "$(curl -s -o /dev/null -w '%{http_code}' "$SU/saml/metadata?provider=idp-mail")" 200

# --- the AuthnRequest
url=$(start_url sess-1 alice saml-mfa)
hop "$TMP/jar1" "$url"
is "start answers 302" "$HOP_CODE" 302
sso=$HOP_LOC
has "to the IdP's SSO endpoint" "$sso" "$SAML/sso?SAMLRequest="
for p in RelayState= "SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256" Signature=; do
	has "redirect carries $p" "$sso" "$p"
done
relay=$(query_param "$sso" RelayState)
is "RelayState is an opaque handle within 80 bytes" "$(( ${#relay} >= 22 && ${#relay} <= 80 ))" 1
req=$(authn_request "$sso")
for p in 'ForceAuthn="true"' 'IsPassive="false"' 'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"' \
	"AssertionConsumerServiceURL=\"http://127.0.0.1:$STEPUPD_PORT/saml/acs\"" \
	"<saml:Issuer>http://127.0.0.1:$STEPUPD_PORT/saml/metadata</saml:Issuer>" \
	'<samlp:RequestedAuthnContext Comparison="minimum">' "<saml:AuthnContextClassRef>$CR_MFA</saml:AuthnContextClassRef>"; do
	has "AuthnRequest carries $p" "$req" "$p"
done
rid=$(echo "$req" | sed -n 's/.* ID="\([^"]*\)".*/\1/p')
echo "$rid" | grep -qE '^_[0-9a-f]{32}$' && ok "request ID is _ + 32 hex digits (128 random bits)" || notok "request ID '$rid'"
is "the pending flow holds the request ID" "$(db_count "select count(*) from pending_flows where request_id='$rid'")" 1
cookie=$(echo "$HOP_HDR" | grep -i '^set-cookie: stepup_saml_')
has "the flow is bound to the browser by a SAML flow cookie" "$cookie" "stepup_saml_"
has "flow cookie is HttpOnly" "$cookie" "HttpOnly"
has "flow cookie is only sent to the ACS" "$cookie" "Path=/saml/acs"
hasnt "flow cookie has no SameSite on plain http (a cross-site POST must carry it)" "$cookie" "SameSite"
hasnt "flow cookie has no Secure on plain http" "$cookie" "Secure"
is "check before step-up: 401" "$(check_status sess-1 saml-mfa)" 401

# --- good case
hop "$TMP/jar1" "$sso"
is "IdP answers with the auto-POST form" "$HOP_CODE" 200
echo "$HOP_BODY" >"$TMP/form1.html"
last=$(curl -s "$SAML/_mock/last")
has "the IdP verified the request's signature" "$last" '"signed":true'
has "the IdP saw ForceAuthn" "$last" '"force_authn":true'
action=$(form_field "$TMP/form1.html" action)
resp1=$(form_field "$TMP/form1.html" SAMLResponse)
is "the form posts to our ACS" "$action" "$SU/saml/acs"
is "the form carries our RelayState back" "$(form_field "$TMP/form1.html" RelayState)" "$relay"
acs_post "$TMP/jar1" "$action" "$resp1" "$relay"
is "ACS answers 303" "$HOP_CODE" 303
is "to the return URL" "$HOP_LOC" "http://127.0.0.1:8088/files/report.pdf"
has "the flow cookie is deleted" "$HOP_HDR" "Max-Age=0"
is "the pending flow is consumed" "$(db_count 'select count(*) from pending_flows')" 0
is "the assertion ID is recorded" "$(db_count 'select count(*) from saml_assertions')" 1
is "check after step-up: 200" "$(check_status sess-1 saml-mfa)" 200
is "the elevation is for saml-mfa only" "$(check_status sess-1 saml-pwd)" 401
body=$(session_json sess-1)
for k in '"user":"alice"' '"context":"saml-mfa"' "\"acr\":\"$CR_MFA\"" '"provider":"idp"' '"auth_time":'; do
	has "session JSON has $k" "$body" "$k"
done
grep -q 'sess-1' "$TMP/stepupd.log" && notok "session id logged" || ok "session id never logged"
grep -q "$relay" "$TMP/stepupd.log" && notok "RelayState logged" || ok "RelayState never logged"

# --- replays
acs_post "$TMP/jar1" "$action" "$resp1" "$relay"
is "the same ACS post again: 400" "$HOP_CODE" 400
has "and says the RelayState is unknown or used" "$HOP_BODY" "already used"
url=$(start_url sess-2 alice saml-mfa)
hop "$TMP/jar2" "$url"
relay2=$(query_param "$HOP_LOC" RelayState)
acs_post "$TMP/jar2" "$action" "$resp1" "$relay2"
is "the old response with a new flow's RelayState and cookie: 403" "$HOP_CODE" 403
has "refused for answering another request" "$HOP_BODY" "InResponseTo"
is "no elevation from the replay" "$(check_status sess-2 saml-mfa)" 401
is "only one assertion ID recorded" "$(db_count 'select count(*) from saml_assertions')" 1

# --- browser binding: the form is posted from another browser
url=$(start_url sess-3 alice saml-mfa)
hop "$TMP/jar3" "$url"
hop "$TMP/jar3" "$HOP_LOC"
echo "$HOP_BODY" >"$TMP/form3.html"
acs_post "$TMP/other-browser" "$action" "$(form_field "$TMP/form3.html" SAMLResponse)" "$(form_field "$TMP/form3.html" RelayState)"
is "ACS post from another browser: 403" "$HOP_CODE" 403
has "error page says so" "$HOP_BODY" "browser"
is "not elevated" "$(check_status sess-3 saml-mfa)" 401
acs_post "$TMP/jar3" "$action" "$(form_field "$TMP/form3.html" SAMLResponse)" "$(form_field "$TMP/form3.html" RelayState)"
is "and the flow is gone for the right browser too (single use): 400" "$HOP_CODE" 400

# --- malformed posts
post() { curl -s -o "$TMP/p.out" -w '%{http_code}' "$@" "$SU/saml/acs"; }
is "unknown RelayState: 400" "$(post --data 'SAMLResponse=PHg%2B&RelayState=nope')" 400
is "RelayState longer than 80 bytes: 400" "$(post --data "SAMLResponse=PHg%2B&RelayState=$(printf 'a%.0s' $(seq 90))")" 400
is "no SAMLResponse: 400" "$(post --data 'RelayState=abc')" 400
has "error page names SAMLResponse" "$(cat "$TMP/p.out")" "SAMLResponse"
is "no RelayState: 400" "$(post --data 'SAMLResponse=PHg%2B')" 400
is "two SAMLResponse: 400" "$(post --data 'SAMLResponse=a&SAMLResponse=b&RelayState=abc')" 400
has "error page says twice" "$(cat "$TMP/p.out")" "twice"
is "two RelayState: 400" "$(post --data 'SAMLResponse=a&RelayState=x&RelayState=y')" 400
is "bad URL encoding: 400" "$(post --data 'SAMLResponse=%zz&RelayState=abc')" 400
is "not a form post: 400" "$(post -H 'Content-Type: text/xml' --data '<x/>')" 400
is "GET /saml/acs: 405" "$(curl -s -o /dev/null -w '%{http_code}' "$SU/saml/acs")" 405
is "a body over 64 KiB: 413" "$(head -c 70000 /dev/zero | tr '\0' a | post --data-binary @-)" 413
is "none of these elevated anything" "$(db_count 'select count(*) from elevations')" 1

# --- comparisons
browse_ok() { # SESSION USER CONTEXT -> HOP_* of the ACS
	saml_user "$2"
	saml_browse "$TMP/jar-$1" "$(start_url "$1" "$2" "$3")"
}
browse_ok sess-pwd alice saml-pwd
is "exact PasswordProtectedTransport: elevated" "$HOP_CODE" 303
has "acr is the class ref the IdP returned" "$(session_json sess-pwd)" "\"acr\":\"$CR_PPT\""
browse_ok sess-better alice saml-better
is "better than PasswordProtectedTransport: elevated with MFA" "$HOP_CODE" 303
has "acr is MobileTwoFactorContract" "$(session_json sess-better)" "\"acr\":\"$CR_MFA\""
browse_ok sess-bob bob saml-mfa
is "bob (password only) on an MFA context: 403" "$HOP_CODE" 403
has "the page shows the IdP's status" "$HOP_BODY" "NoAuthnContext"
is "bob: check stays 401" "$(check_status sess-bob saml-mfa)" 401
browse_ok sess-bob2 bob saml-pwd
is "bob on the password context: elevated" "$HOP_CODE" 303
saml_user alice

# --- subject from the mail attribute, bound to the named user
saml_user alice
saml_browse "$TMP/jar-mail" "$(start_url sess-mail alice@example.test saml-mail)"
is "mail-attribute subject equal to the named user: elevated" "$HOP_CODE" 303
has "the user is the named one" "$(session_json sess-mail)" '"user":"alice@example.test"'
saml_browse "$TMP/jar-mail2" "$(start_url sess-mail2 alice saml-mail)"
is "the NameID (alice) is not the subject when subject_attribute is set: 403" "$HOP_CODE" 403
has "error page names the subject" "$HOP_BODY" "subject"

# --- subject binding with the NameID
saml_user alice
url=$(start_url sess-8 carol saml-mfa)
saml_browse "$TMP/jar8" "$url"
is "NameID differs from the named user: 403" "$HOP_CODE" 403
has "error page names the subject" "$HOP_BODY" "subject"
is "not elevated" "$(check_status sess-8 saml-mfa)" 401

# --- start link replay
url=$(start_url sess-9 alice saml-mfa)
hop "$TMP/jar9" "$url"
is "first use of a SAML start link: 302" "$HOP_CODE" 302
hop "$TMP/jar9b" "$url"
is "SAML start link used twice: 400" "$HOP_CODE" 400
has "error page says it was used" "$HOP_BODY" "already been used"

# --- no session named: stepupd mints one
jar=$TMP/jar10
saml_browse "$jar" "$(start_url "" alice saml-mfa)"
is "SAML step-up without a session: 303" "$HOP_CODE" 303
newsess=$(awk '$6=="stepup_session"{print $7}' "$jar" | tail -1)
is "a fresh session cookie was set" "$(( ${#newsess} >= 22 ))" 1
is "the new session is elevated" "$(check_status "$newsess" saml-mfa)" 200

# --- the proxy's path: /check gives the start URL and the SAML challenge
hdrs=$(curl -s -D - -o /dev/null -H 'X-Stepup-Session: sess-11' -H 'X-Stepup-Context: saml-mfa' \
	-H 'X-Original-URI: /files/report.pdf' -H 'Host: 127.0.0.1:8088' "$SU/check" | tr -d '\r')
has "check names the class ref in the challenge" "$hdrs" "acr_values=\"$CR_MFA\""
loc=$(echo "$hdrs" | sed -n 's/^X-Stepup-Location: //p')
saml_browse "$TMP/jar11" "$loc"
is "the start URL from /check completes a SAML step-up" "$HOP_CODE" 303
is "and /check then answers 200" "$(check_status sess-11 saml-mfa)" 200

# --- LASSO_FLAG (no-verify-signature would switch off Lasso's signature checks)
out=$(LASSO_FLAG=no-verify-signature timeout 20 "$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" serve 2>&1)
is "stepupd refuses to start when LASSO_FLAG is set" "$?" 1
has "and says why" "$out" "LASSO_FLAG is set"

# --- audit
is "the successful SAML step-ups are audited" "$(db_count "select count(*) from audit where event='acs' and outcome='elevated'")" 7
is "refused ACS posts are audited" "$(( $(db_count "select count(*) from audit where event='acs' and outcome='denied'") >= 10 ))" 1

done_testing
