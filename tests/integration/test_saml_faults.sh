#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Every way the mock SAML IdP can be wrong (tests/mock/mock_saml.c): the
# ACS answers a 4xx error page naming the check that failed, and elevates
# nothing. Then the assertion-ID replay store (a new, validly signed
# response reusing an accepted assertion's ID), and the positive case of an
# assertion-only signature.
. "$(dirname "$0")/saml_lib.sh"
saml_setup

# one good step-up first, so that other_request and replay have an earlier request
saml_browse "$TMP/jar-first" "$(start_url sess-first alice saml-mfa)"
is "a good step-up first: 303" "$HOP_CODE" 303

# fault  expected-status  words-in-the-error-page
while read -r f want words; do
	[ -z "$f" ] && continue
	is "fault $f: mock accepts the switch" "$(saml_fault "$f")" 200
	sess="sess-$f"
	saml_browse "$TMP/jar-$f" "$(start_url "$sess" alice saml-mfa)"
	is "fault $f: ACS answers $want" "$HOP_CODE" "$want"
	has "fault $f: the error page names the check" "$HOP_BODY" "$words"
	is "fault $f: /check still says step-up needed" "$(check_status "$sess" saml-mfa)" 401
	is "fault $f: no elevation listed" "$(elevations "$sess")" 0
done <<'FAULTS'
wrong_audience 403 Audience
expired 403 expired
not_yet_valid 403 not yet valid
wrong_recipient 403 Recipient
wrong_destination 403 Destination
unsolicited 403 unsolicited
other_request 403 InResponseTo
replay 403 InResponseTo
weaker_class 403 AuthnContextClassRef
stale_authn_instant 403 AuthnInstant
unsigned 400 not signed
other_key 403 signature check failed
sha1 403 SHA-1
two_assertions 400 exactly one assertion
error_status 403 NoAuthnContext
nameid_comment 400 comment
FAULTS
saml_fault none >/dev/null
is "no elevation row was written by any fault" "$(db_count 'select count(*) from elevations')" 1
is "every refused ACS post is audited" \
	"$(db_count "select count(*) from audit where event='acs' and outcome='denied'")" 16
is "no refused assertion was recorded as used" "$(db_count 'select count(*) from saml_assertions')" 1

# the replay store: an accepted assertion's ID, in a new, validly signed
# response for a new request, is refused
saml_browse "$TMP/jar-a" "$(start_url sess-a alice saml-mfa)"
is "a good step-up: 303" "$HOP_CODE" 303
is "reuse_id: mock accepts the switch" "$(saml_fault reuse_id)" 200
saml_browse "$TMP/jar-b" "$(start_url sess-b alice saml-mfa)"
is "the same assertion ID again: 403" "$HOP_CODE" 403
has "the page says replay" "$HOP_BODY" "already used (replay)"
is "reuse_id: not elevated" "$(check_status sess-b saml-mfa)" 401
saml_fault none >/dev/null

# positive: only the assertion is signed (the Response is not)
is "assertion_only_signed: mock accepts the switch" "$(saml_fault assertion_only_signed)" 200
saml_browse "$TMP/jar-aos" "$(start_url sess-aos alice saml-mfa)"
sig_count=$(echo "$SAML_RESPONSE" | base64 -d | grep -o 'SignatureValue>' | wc -l)
is "the response carries one signature (the assertion's)" "$sig_count" 2
is "assertion-only signature: elevated" "$HOP_CODE" 303
is "assertion-only signature: check 200" "$(check_status sess-aos saml-mfa)" 200
# ... and the assertion's signature is really checked then: alter the NameID
# of an assertion-only-signed response (no user named, so only the signature
# can notice)
hop "$TMP/jar-t" "$(start_url sess-t "" saml-mfa)"
hop "$TMP/jar-t" "$HOP_LOC"
echo "$HOP_BODY" >"$TMP/form-t.html"
forged=$(form_field "$TMP/form-t.html" SAMLResponse | base64 -d | sed 's|>alice</saml:NameID>|>mallory</saml:NameID>|' | base64 -w0)
acs_post "$TMP/jar-t" "$SU/saml/acs" "$forged" "$(form_field "$TMP/form-t.html" RelayState)"
is "assertion-only signature, NameID altered: 403" "$HOP_CODE" 403
has "the page names the signature" "$HOP_BODY" "signature check failed"
is "the forged subject is not elevated" "$(db_count "select count(*) from elevations where user='mallory'")" 0
saml_fault none >/dev/null

# positive: the honest IdP again after all that
saml_browse "$TMP/jar-last" "$(start_url sess-last alice saml-mfa)"
is "the IdP without a fault: elevated" "$HOP_CODE" 303

done_testing
