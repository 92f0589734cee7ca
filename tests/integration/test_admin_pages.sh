#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The admin console's pages (SPEC 2.4, 2.5; docs/admin.md "Pages") driven
# with curl as a signed-in local admin: the session list (filters, paging,
# bad parameters), one session's elevations and timeline, revoking one
# session and every session of a user (the next /check is refused); a
# policy created through the form with every field of the seed's form,
# refused forms that keep the admin's input and change nothing, edit,
# disable/enable (the running /check follows), delete; the per-policy
# report with its SVG charts after /check requests that match; the audit
# search; the identity-provider status (OIDC discovery and keys, SAML
# metadata validUntil and certificate expiry); user names with markup shown
# escaped; every POST without the CSRF token refused with nothing changed;
# every page without an admin session sent to the sign-in page.
. "$(dirname "$0")/lib.sh"
STEPUPD_PORT=$(free_port)
start_mock
write_conf

# a SAML provider whose metadata we write: validUntil and a signing
# certificate the IdP status page must report
bash "$ROOT/certs/make-test-certs.sh" "$TMP/certs" saml || { echo "# cannot make test keys"; exit 1; }
IDP_CERT=$(sed '/-----/d' "$TMP/certs/idp.crt" | tr -d '\n')
VALID_UNTIL=$(date -u -d '+90 days' +%Y-%m-%dT%H:%M:%SZ)
cat >"$TMP/idp-metadata.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
  entityID="https://idp.example.test/saml" validUntil="$VALID_UNTIL" cacheDuration="PT6H">
 <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
$IDP_CERT
  </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/>
 </md:IDPSSODescriptor>
</md:EntityDescriptor>
XML
cat >>"$TMP/stepupd.conf" <<CONF

[provider "corp-saml"]
type = saml
metadata_file = ./idp-metadata.xml
sp_entity_id = http://127.0.0.1:$STEPUPD_PORT/saml/metadata
sp_key_file = ./certs/sp.key
sp_cert_file = ./certs/sp.crt

[context "saml-mfa"]
provider = corp-saml
class_refs = urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract
CONF
start_stepupd
SUD=$ROOT/$BUILD/stepupd
CONF=$TMP/stepupd.conf
JAR=$TMP/admin.jar
XSS='<script>alert(1)</script>'

sql() { sqlite3 -cmd '.timeout 5000' "$TMP/var/stepupd.db" "$1"; }
enc() { python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
sha() { printf '%s' "$1" | sha256sum | cut -c1-64; }
csrf_of() { grep -o 'name="csrf" value="[^"]*"' <<<"$1" | head -1 | sed 's/.*value="//; s/"$//'; }
# get PATH [JAR]: GET with the admin's cookies; sets CODE, LOC, BODY
get() {
	local out
	out=$(curl -s -b "${2:-$JAR}" -c "${2:-$JAR}" -o "$TMP/page.html" -w '%{http_code} %{redirect_url}' "$SU$1")
	CODE=${out%% *}
	LOC=${out#* }
	BODY=$(cat "$TMP/page.html")
}
# post PATH DATA [JAR]: a form POST; sets CODE, LOC, BODY
post() {
	local out
	out=$(curl -s -b "${3:-$JAR}" -c "${3:-$JAR}" -o "$TMP/page.html" -w '%{http_code} %{redirect_url}' \
		-H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$2" "$SU$1")
	CODE=${out%% *}
	LOC=${out#* }
	BODY=$(cat "$TMP/page.html")
}
# chk SESSION [USER] [HEADERS...]: /check with the seed policy's download headers -> status
dl=(-H 'X-Activity: download' -H 'X-File-Label: Confidential' -H 'X-Original-URI: /files/plan.pdf'
	-H 'X-File-Name: plan.pdf' -H 'X-App: files')
chk() {
	local s=$1 u=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' -H 'Host: 127.0.0.1:8088' ${s:+-H "X-Stepup-Session: $s"} \
		${u:+-H "X-Stepup-User: $u"} "$@" "$SU/check"
}

# ---- an admin account and a signed-in browser
printf 'admin-pages-pw-4711\n' | "$SUD" -c "$CONF" admin passwd admin >/dev/null 2>&1
is "stepupd admin passwd admin: exit 0" "$?" 0

PAGES=(/admin/sessions "/admin/session?h=$(sha nobody)" /admin/policies /admin/policies/new
	"/admin/policies/edit?id=1" "/admin/policies/delete?id=1" "/admin/report?id=0" /admin/audit
	/admin/idps)
for p in "${PAGES[@]}"; do
	get "$p" "$TMP/nobody.jar"
	is "without an admin session GET $p: 303" "$CODE" 303
	has "... to the sign-in page" "$LOC" "$SU/admin/login?next="
done
for p in /admin/sessions/revoke /admin/sessions/revoke-user /admin/policies/new /admin/policies/edit \
	/admin/policies/enable /admin/policies/delete /admin/idps/check; do
	post "$p" "csrf=x&id=1" "$TMP/nobody.jar"
	is "without an admin session POST $p: 403" "$CODE" 403
done
has "... a console page that says to sign in" "$BODY" 'Your console session has ended'
has "... with a link to the sign-in page" "$BODY" 'href="/admin/login"'
hasnt "... not the end user's error text" "$BODY" 'not elevated'

get /admin/login
CSRF=$(csrf_of "$BODY")
post /admin/login "csrf=$(enc "$CSRF")&user=admin&password=admin-pages-pw-4711"
is "sign in: 303" "$CODE" 303
get /admin/
is "the console's home: 200" "$CODE" 200
has "... its sections in a panel, like every other page" "$BODY" '<section class="panel">'
has "... a card per section" "$BODY" '<li><a href="/admin/audit">Audit</a>'
get /admin/sessions
is "sessions page: 200" "$CODE" 200
CSRF=$(csrf_of "$BODY")
check "the page carries the session's CSRF token" [ ${#CSRF} -ge 20 ]
has "no session yet: the empty state" "$BODY" "No session has been elevated yet."
has "context filter offers the configured contexts" "$BODY" '<option value="saml-mfa" >saml-mfa</option>'

# ---- sessions: alice twice, carol once, through the mock OP
for s in alice:s-a1 alice:s-a2 carol:s-b1; do
	browse "$TMP/b-${s#*:}.jar" "$(start_url "${s#*:}" "${s%%:*}" c1)"
	is "step-up of ${s%%:*} (${s#*:}): 303 back to the app" "$HOP_CODE" 303
done
is "s-a1 elevated: /check 200" "$(check_status s-a1 c1)" 200
# a start request naming a user with markup (the mock OP refuses it; the
# start is audited with the user's name)
hop "$TMP/xss.jar" "$(start_url s-x "$XSS" c1)"

get /admin/sessions
is "sessions page: 200" "$CODE" 200
has "lists alice" "$BODY" '>alice</a>'
has "lists carol" "$BODY" '>carol</a>'
HB=$(sha s-b1)
has "a session's hash shortened, monospace, the full hash in the title" "$BODY" \
	"<a class=\"hash\" href=\"/admin/session?h=$HB\" title=\"$HB\">${HB:0:12}…</a>"
has "3 sessions" "$BODY" "3 sessions, most recently elevated first."
has "active badge" "$BODY" 'badge-ok">active<'
has "a revoke button posting the session hash" "$BODY" "name=\"h\" value=\"$(sha s-b1)\""
get "/admin/sessions?user=ALI"
has "filter by user (substring, any case): alice's 2" "$BODY" "2 sessions"
hasnt "... not carol" "$BODY" '>carol</a>'
get "/admin/sessions?user=%25"
has "a LIKE wildcard in the filter is a literal: nothing" "$BODY" "No session matches these filters."
get "/admin/sessions?context=loa3"
has "filter by context: none in loa3" "$BODY" "0 sessions"
get "/admin/sessions?context=c1&state=active"
has "filter by context and state" "$BODY" "3 sessions"
get "/admin/sessions?state=revoked"
has "no revoked session yet" "$BODY" "0 sessions"
get "/admin/sessions?page=2"
has "page 2 is past the end" "$BODY" "No more sessions"
get "/admin/sessions?state=bogus"
is "an unknown state: 400" "$CODE" 400
get "/admin/sessions?user=a&user=b"
is "a repeated parameter: 400" "$CODE" 400
get "/admin/sessions?page=0"
is "page 0: 400" "$CODE" 400
get "/admin/sessions?page=x1"
is "page not a number: 400" "$CODE" 400
get "/admin/sessions?user=%01"
is "a control character in a filter: 400" "$CODE" 400

# one session
HA1=$(sha s-a1)
get "/admin/session?h=$HA1"
is "session page: 200" "$CODE" 200
has "shows its user" "$BODY" '>alice</a>'
has "shows the elevation's context and acr" "$BODY" '<td class="strong">c1</td>'
has "amr as tags, one per value" "$BODY" '<span class="tag">pwd</span><span class="tag">mfa</span>'
hasnt "... not as JSON text" "$BODY" '[&quot;pwd&quot;'
AMR0=$(sql "select amr from elevations where session_hash = '$HB'")
sql "update elevations set amr = '[\"<b>x</b>\",\"otp\"]' where session_hash = '$HB'"
get "/admin/session?h=$HB"
has "an amr value with markup: an escaped tag" "$BODY" '<span class="tag">&lt;b&gt;x&lt;/b&gt;</span><span class="tag">otp</span>'
sql "update elevations set amr = '[1,\"pwd\"]' where session_hash = '$HB'"
get "/admin/session?h=$HB"
has "an amr that is not all strings: shown as its text" "$BODY" '<span class="muted">[1,&quot;pwd&quot;]</span>'
sql "update elevations set amr = '$AMR0' where session_hash = '$HB'"
has "timeline: the start" "$BODY" '<span class="strong">start</span>'
has "timeline: the callback" "$BODY" '<span class="strong">callback</span>'
has "timeline: elevated" "$BODY" 'badge-ok">elevated<'
get "/admin/session?h=$(sha nobody)"
is "an unknown session: 404" "$CODE" 404
get "/admin/session?h=ABC"
is "a malformed hash: 400" "$CODE" 400
get "/admin/session?h=$(tr a-f A-F <<<"$HA1")"
is "an upper-case hash: 400" "$CODE" 400

# ---- policies: create through the form with every field
FORM="csrf=$(enc "$CSRF")&name=$(enc 'Step-up on labelled downloads')&description=$(enc $'Seed policy\r\nline two')"
FORM+="&severity=high&category=DLP&enabled=1&sc_control_file_download=1&sc_control_file_upload=1"
FORM+="&device_tags_op=not_equals&tag_compliant=1&tag_hybrid_joined=1&tag_valid_client_cert=1"
FORM+="&apps_op=in&apps=files&users_op=not_in&users=$(enc $'mallory\r\n  eve  ')&groups_op=not_in&groups=contractors"
FORM+="&ip_ranges_op=not_in&ip_ranges=$(enc $'10.0.0.0/8\n2001:db8::/32')&activities_op=in&activities=download"
FORM+="&url_path_op=in&url_path=$(enc '/files/**')&url_path_ignore_case=1"
FORM+="&labels_op=in&labels=$(enc $'Confidential\nHighly Confidential')&file_name_op=not_in&file_name=$(enc 'public-*')"
FORM+="&file_extension_op=not_in&file_extension=$(enc $'.txt\nmd')&action=step_up&context=c1"
FORM+="&alerts_enabled=1&daily_limit=25&alerts_webhook=1&alerts_email=$(enc $'secops@example.com\nsoc@example.com')"
n0=$(sql "select count(*) from policies")
post /admin/policies/new "$FORM"
is "create a policy through the form: 303" "$CODE" 303
is "... to the list with a notice" "$LOC" "$SU/admin/policies?done=created"
is "one more policy" "$(sql "select count(*) from policies")" $((n0 + 1))
PID=$(sql "select id from policies where name = 'Step-up on labelled downloads'")
J=$(sql "select json from policies where id = $PID")
for want in '"description":"Seed policy\nline two"' '"severity":"high"' '"category":"DLP"' '"enabled":true' \
	'"session_control":["control_file_download","control_file_upload"]' \
	'"device_tags":{"op":"not_equals","values":["compliant","hybrid_joined","valid_client_cert"]}' \
	'"apps":{"op":"in","values":["files"]}' '"users":{"op":"not_in","values":["mallory","eve"]}' \
	'"groups":{"op":"not_in","values":["contractors"]}' \
	'"ip_ranges":{"op":"not_in","values":["10.0.0.0/8","2001:db8::/32"]}' \
	'"activities":{"op":"in","values":["download"]}' '"ignore_case":true' '"/files/**"' \
	'"labels":{"op":"in","values":["Confidential","Highly Confidential"]}' \
	'"file_name":{"op":"not_in","values":["public-*"]}' \
	'"file_extension":{"op":"not_in","values":["txt","md"]}' \
	'"action":{"type":"step_up","context":"c1"}' '"daily_limit":25' '"webhook":true' \
	'"email":["secops@example.com","soc@example.com"]'; do
	has "stored: $want" "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), separators=(",",":")))' "$J")" "$want"
done
out=$("$SUD" -c "$CONF" policy export 2>&1)
has "policy export has the console's policy" "$out" '"name": "Step-up on labelled downloads"'
get "${LOC#"$SU"}"
has "the list shows it" "$BODY" '>Step-up on labelled downloads</a>'
has "the list shows the created notice" "$BODY" "Policy created."
has "severity badge" "$BODY" 'badge-bad">high<'
has "action and context" "$BODY" 'badge-info">step-up</span> <span class="muted">c1</span>'
get "/admin/policies/edit?id=$PID"
is "edit page: 200" "$CODE" 200
for want in 'value="Step-up on labelled downloads"' '>Seed policy
line two</textarea>' '<option value="high" selected>' 'name="sc_control_file_upload" value="1" checked' \
	'<option value="not_equals" selected>' 'name="tag_valid_client_cert" value="1" checked' \
	'>mallory
eve</textarea>' '>10.0.0.0/8
2001:db8::/32</textarea>' 'name="url_path_ignore_case" value="1" checked' '>txt
md</textarea>' 'name="action" value="step_up" checked' '<option value="c1" selected>' \
	'name="daily_limit" min="1" max="10000" value="25"' '>secops@example.com
soc@example.com</textarea>' 'name="enabled" value="1" checked'; do
	has "the edit form shows: ${want%%$'\n'*}" "$BODY" "$want"
done

# refused forms: shown again with the input and the error; nothing changes
V0=$(sql "select version from policy_version")
post /admin/policies/new "csrf=$(enc "$CSRF")&name=$(enc "$XSS")&severity=low&action=block&ip_ranges=$(enc $'10.0.0.0/8\nnot-an-ip')"
is "a bad IP range: 400" "$CODE" 400
has "... the error is next to the field, naming the line" "$BODY" 'Line 2: is not an IPv4 or IPv6 address or CIDR range'
has "... the input is kept" "$BODY" '>10.0.0.0/8
not-an-ip</textarea>'
has "... the name with markup is kept, escaped" "$BODY" 'value="&lt;script&gt;alert(1)&lt;/script&gt;"'
hasnt "... no raw <script>" "$BODY" "$XSS"
post /admin/policies/new "csrf=$(enc "$CSRF")&name=x&severity=low&action=step_up&context=nope"
is "an unknown context: 400" "$CODE" 400
has "... explained" "$BODY" 'no [context &quot;nope&quot;] in the configuration'
post /admin/policies/new "csrf=$(enc "$CSRF")&name=x&severity=urgent&action=block"
is "an unknown severity: 400" "$CODE" 400
post /admin/policies/new "csrf=$(enc "$CSRF")&name=x&severity=low&action=allow&sc_monitor_only=1&sc_block_activities=1"
is "monitor only with another control: 400" "$CODE" 400
has "... explained" "$BODY" 'monitor_only cannot be combined'
post /admin/policies/new "csrf=$(enc "$CSRF")&name=x&severity=low&action=block&daily_limit=lots"
is "a daily limit that is not a number: 400" "$CODE" 400
post /admin/policies/new "csrf=$(enc "$CSRF")&name=x&severity=low&action=block&daily_limit=20000"
is "a daily limit over 10000: 400" "$CODE" 400
post /admin/policies/new "csrf=$(enc "$CSRF")&name=x&severity=low&action=block&alerts_email=not-an-address"
is "a bad e-mail address: 400" "$CODE" 400
post /admin/policies/new "csrf=$(enc "$CSRF")&name=&severity=low&action=block"
is "no name: 400" "$CODE" 400
post /admin/policies/new "csrf=$(enc "$CSRF")&name=$(enc 'STEP-UP on labelled downloads')&severity=low&action=block"
is "a name taken (any case): 400" "$CODE" 400
has "... explained" "$BODY" "Another policy already has this name."
post /admin/policies/new "csrf=$(enc "$CSRF")&name=x&name=y&severity=low&action=block"
is "a repeated field: 400" "$CODE" 400
post /admin/policies/new "csrf=$(enc "$CSRF")&name=%ff%fe&severity=low&action=block"
is "a name that is not UTF-8: 400" "$CODE" 400
is "refused forms changed nothing (version)" "$(sql "select version from policy_version")" "$V0"
is "refused forms changed nothing (count)" "$(sql "select count(*) from policies")" $((n0 + 1))

# edit
post /admin/policies/edit "$(sed "s/severity=high/severity=medium/; s/category=DLP/category=Data/" <<<"$FORM")&id=$PID"
is "edit: 303" "$CODE" 303
is "the edit is stored" "$(sql "select json_extract(json, '\$.severity') || ' ' || json_extract(json, '\$.category') from policies where id = $PID")" "medium Data"
is "the id stays" "$(sql "select count(*) from policies where id = $PID")" 1
post /admin/policies/edit "csrf=$(enc "$CSRF")&id=999999&name=x&severity=low&action=block"
is "edit of an unknown policy: 404" "$CODE" 404
post /admin/policies/edit "csrf=$(enc "$CSRF")&id=abc&name=x&severity=low&action=block"
is "edit with a bad id: 400" "$CODE" 400

# the policy decides /check (the running server reloads within a second)
sleep 1.2
is "alice's download from an unmanaged device, new session: 401 (step-up)" "$(chk s-n1 alice "${dl[@]}")" 401
is "... from her elevated session: 200 (recorded)" "$(chk s-a1 alice "${dl[@]}")" 200
is "a compliant device: 200" "$(chk s-a1 alice "${dl[@]}" -H 'X-Device-Tags: compliant')" 200
is "a user with markup: 401, recorded" "$(chk s-x "$XSS" "${dl[@]}")" 401

# disable / enable
post /admin/policies/enable "csrf=$(enc "$CSRF")&id=$PID&enabled=0"
is "disable: 303" "$CODE" 303
is "disabled in the store" "$(sql "select enabled from policies where id = $PID")" 0
sleep 1.2
is "disabled: the download passes (200)" "$(chk s-a1 alice "${dl[@]}")" 200
get /admin/policies
has "the list shows it disabled" "$BODY" 'badge-muted">disabled<'
post /admin/policies/enable "csrf=$(enc "$CSRF")&id=$PID&enabled=1"
is "enable: 303" "$CODE" 303
is "enabled in the store" "$(sql "select enabled from policies where id = $PID")" 1
post /admin/policies/enable "csrf=$(enc "$CSRF")&id=$PID&enabled=yes"
is "enabled=yes: 400" "$CODE" 400
sleep 1.2
is "enabled again: 401" "$(chk s-n2 carol "${dl[@]}")" 401

# ---- the report
sleep 0.5
get "/admin/report?id=$PID"
is "report: 200" "$CODE" 200
has "names the policy" "$BODY" '>Step-up on labelled downloads</h2>'
has "an SVG chart per hour" "$BODY" '<svg xmlns="http://www.w3.org/2000/svg" class="chart"'
has "... with a bar" "$BODY" '<rect class="bar"'
has "... for the last 7 days too" "$BODY" 'aria-label="Matches per day, last 7 days"'
has "the matched user" "$BODY" '<td class="strong user">alice</td>'
has "the app and file" "$BODY" '<td>files</td>'
has "pending outcome" "$BODY" 'badge-muted">pending<'
has "the user with markup, escaped" "$BODY" '&lt;script&gt;alert(1)&lt;/script&gt;'
hasnt "no raw <script> in the report" "$BODY" '<script'
has "a link to the match's session" "$BODY" "/admin/session?h=$(sha s-n2)"
total=$(sql "select count(*) from policy_matches where policy_id = $PID and ts >= strftime('%s','now') - 86400")
has "the 24-hour total is the store's ($total)" "$BODY" "<span class=\"stat-n\">$total</span><span class=\"stat-l\">matches, last 24 hours"
get "/admin/report?id=0"
is "report for every policy: 200" "$CODE" 200
has "... with a policy column" "$BODY" "<a href=\"/admin/report?id=$PID\">Step-up on labelled downloads</a>"
get "/admin/report?id=424242"
is "report of a policy that never existed: 404" "$CODE" 404
get "/admin/report?id=-1"
is "a negative id: 400" "$CODE" 400
# the session's timeline has the check decisions now
get "/admin/session?h=$HA1"
has "timeline: the policy check" "$BODY" 'policy “Step-up on labelled downloads”'
has "timeline: decision and file" "$BODY" 'decision step-up · context c1 · user alice · app files · activity download · file plan.pdf'

get "/admin/session?h=$(sha s-n1)"
is "a session never elevated but checked: 200" "$CODE" 200
has "... says so" "$BODY" 'badge-muted">never elevated<'
has "... with its check decision" "$BODY" 'policy “Step-up on labelled downloads”'
hasnt "... and no revoke button" "$BODY" 'action="/admin/sessions/revoke"'

# ---- revoke one session, then every session of a user
HB1=$(sha s-b1)
V0=$(sql "select count(*) from elevations where revoked_at > 0")
post /admin/sessions/revoke "csrf=$(enc "$CSRF")&h=$HA1&back=session"
is "revoke one session: 303" "$CODE" 303
is "... back to the session with a notice" "$LOC" "$SU/admin/session?h=$HA1&done=revoked&n=1"
is "the revoked session: /check 401" "$(check_status s-a1 c1)" 401
is "alice's other session still 200" "$(check_status s-a2 c1)" 200
get "${LOC#"$SU"}"
has "the page says revoked" "$BODY" 'badge-bad">revoked<'
has "... and the notice" "$BODY" "Session revoked: 1 elevation(s) ended."
has "timeline: the revocation by the admin" "$BODY" '<span class="strong">admin_revoke</span>'
get "/admin/sessions?state=revoked"
has "state filter: 1 revoked" "$BODY" "1 session,"
post /admin/sessions/revoke "csrf=$(enc "$CSRF")&h=nothex"
is "revoke with a malformed hash: 400" "$CODE" 400
post /admin/sessions/revoke "csrf=$(enc "$CSRF")&h=$(sha nobody)"
is "revoke an unknown session: 404" "$CODE" 404
post /admin/sessions/revoke-user "csrf=$(enc "$CSRF")&user=alice"
is "revoke every session of alice: 303" "$CODE" 303
is "... to her sessions with a notice" "$LOC" "$SU/admin/sessions?user=alice&done=revoked-user&n=1"
is "alice's other session: 401" "$(check_status s-a2 c1)" 401
is "carol's session untouched: 200" "$(check_status s-b1 c1)" 200
post /admin/sessions/revoke-user "csrf=$(enc "$CSRF")&user="
is "revoke-user without a user: 400" "$CODE" 400

# ---- CSRF: every POST without (or with a wrong) token is refused and changes nothing
V0=$(sql "select version from policy_version")
R0=$(sql "select count(*) from elevations where revoked_at > 0")
A0=$(sql "select count(*) from audit")
for p in "/admin/sessions/revoke|h=$HB1" "/admin/sessions/revoke-user|user=carol" \
	"/admin/policies/new|name=csrf-test&severity=low&action=block" \
	"/admin/policies/edit|id=$PID&name=csrf-test&severity=low&action=block" \
	"/admin/policies/enable|id=$PID&enabled=0" "/admin/policies/delete|id=$PID" "/admin/idps/check|x=1"; do
	post "${p%%|*}" "${p#*|}"
	is "POST ${p%%|*} without csrf: 403" "$CODE" 403
	post "${p%%|*}" "${p#*|}&csrf=wrong-token-0123456789"
	is "POST ${p%%|*} with a wrong csrf: 403" "$CODE" 403
done
has "the refusal is a console page" "$BODY" '<title>Request refused · stepupd admin</title>'
has "... worded for the admin" "$BODY" 'This form expired or did not come from the console; reload the page and try again.'
hasnt "... not the end user's error text" "$BODY" 'not elevated'
is "... no policy changed" "$(sql "select version from policy_version")" "$V0"
is "... no session revoked" "$(sql "select count(*) from elevations where revoked_at > 0")" "$R0"
is "carol's session still 200" "$(check_status s-b1 c1)" 200
is "... no audit row from a refused post" "$(sql "select count(*) from audit where event like 'admin_%' and event not in ('admin_login', 'admin_logout')")" \
	"$(sql "select count(*) from audit where event like 'admin_%' and event not in ('admin_login', 'admin_logout') and id <= $A0")"
get /admin/sessions/revoke
is "GET on a POST-only page: 405" "$CODE" 405

# ---- the audit log
get "/admin/audit"
is "audit: 200" "$CODE" 200
has "lists the revocation" "$BODY" '<td class="strong nowrap">admin_revoke_user</td>'
get "/admin/audit?q=REVOKE_user"
has "search (any case) finds it" "$BODY" "every session of user alice: 1 elevation(s) revoked"
has "... 1 row" "$BODY" "1 matching row"
get "/admin/audit?q=$(enc 'policy "Step-up on labelled downloads"')"
has "search in the detail: the policy's creation" "$BODY" '<td class="strong nowrap">admin_policy_create</td>'
get "/admin/audit?q=${HA1:0:12}"
has "search by the start of a session hash" "$BODY" "/admin/session?h=$HA1"
has "... linked by its shortened hash, the full one in the title" "$BODY" "title=\"$HA1\">${HA1:0:10}…</a>"
get "/admin/audit?q=%25"
has "a LIKE wildcard is a literal: nothing" "$BODY" "Nothing in the audit log matches this search."
get "/admin/audit?q=$(enc "$XSS")"
has "the start request's user with markup is found" "$BODY" "1 matching row"
has "... and shown escaped" "$BODY" '<td class="user">&lt;script&gt;alert(1)&lt;/script&gt;</td>'
hasnt "... no raw <script>" "$BODY" '<script'
get "/admin/audit?page=99999"
has "a page past the end" "$BODY" "No more rows"
get "/admin/audit?q=$(python3 -c 'print("x"*300)')"
is "an over-long search: 400" "$CODE" 400

# ---- identity providers
get /admin/idps
is "identity providers: 200" "$CODE" 200
has "the OIDC provider's issuer" "$BODY" ">$MOCK</dd>"
has "discovery held after a step-up" "$BODY" 'badge-ok">held<'
kid=$(curl -s "$MOCK/jwks" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["kid"])')
has "the key ids ($kid)" "$BODY" "<code class=\"chip\">$kid</code>"
has "the SAML IdP's entity id" "$BODY" '>https://idp.example.test/saml</dd>'
has "its metadata validUntil" "$BODY" "$(date -u -d "$VALID_UNTIL" '+%Y-%m-%d %H:%M:%S UTC')"
has "its cacheDuration" "$BODY" '<dd>PT6H</dd>'
has "its signing certificate's subject" "$BODY" '/CN='
has "a 30-day certificate expires soon" "$BODY" 'badge-warn">expires soon<'
post /admin/idps/check "csrf=$(enc "$CSRF")"
is "check discovery now: 303" "$CODE" 303
get "$(sed "s|^$SU||" <<<"$LOC")"
has "... with a notice" "$BODY" "Identity providers checked."

# ---- delete (confirmation page, then POST); the report stays
get "/admin/policies/delete?id=$PID"
is "delete confirmation: 200" "$CODE" 200
has "names the policy" "$BODY" '<strong>Step-up on labelled downloads</strong>'
post /admin/policies/delete "csrf=$(enc "$CSRF")&id=$PID"
is "delete: 303" "$CODE" 303
is "deleted from the store" "$(sql "select count(*) from policies where id = $PID")" 0
get "/admin/report?id=$PID"
is "the deleted policy's report: 200" "$CODE" 200
has "... says so" "$BODY" "This policy was deleted; its matches remain."
post /admin/policies/delete "csrf=$(enc "$CSRF")&id=$PID"
is "delete again: 404" "$CODE" 404
get "/admin/policies/edit?id=$PID"
is "edit a deleted policy: 404" "$CODE" 404

# ---- large data: the policy list pages, a long timeline keeps its newest events
python3 - "$TMP/many.json" <<'PY'
import json, sys
ps = [{"name": "policy %03d %s" % (i, "x" * 100), "severity": "low", "action": {"type": "block"},
       "activity_filters": {"url_path": {"op": "in", "values": ["/p%d/**" % i]}}} for i in range(250)]
json.dump({"policies": ps}, open(sys.argv[1], "w"))
PY
"$SUD" -c "$CONF" policy import "$TMP/many.json" >/dev/null 2>&1
get /admin/policies
is "250 policies: 200" "$CODE" 200
has "... the first 100" "$BODY" "1–100 of 250"
has "... a link to the next page" "$BODY" 'href="/admin/policies?page=2"'
get "/admin/policies?page=3"
has "... page 3: the last 50" "$BODY" "201–250 of 250"
has "... numbered in set order" "$BODY" '<td class="muted">250</td>'
HA2=$(sha s-a2)
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
     INSERT INTO audit (ts, event, session_hash, outcome, detail)
     SELECT strftime('%s','now') + i, 'bulk-' || i, '$HA2', 'ok', printf('%.3000c', 'd') FROM n"
get "/admin/session?h=$HA2"
is "a timeline of 3 MB of events: 200" "$CODE" 200
has "... says older events are left out" "$BODY" "Older events are left out"
has "... keeps the newest" "$BODY" '>bulk-999</span>'
hasnt "... drops the oldest" "$BODY" '>start</span>'

# ---- escaping everywhere: no page has a raw <script> from stored data
for p in /admin/sessions "/admin/session?h=$(sha s-x)" /admin/policies "/admin/report?id=0" /admin/audit /admin/idps; do
	get "$p"
	hasnt "no raw <script> on $p" "$BODY" '<script'
done

done_testing
