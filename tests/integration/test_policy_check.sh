#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# GET /check decides by session policy when the proxy names no context
# (SPEC 2.3, 2.4), and POST /api/v1/decisions gives the same answer: the
# seed's "step-up on downloads of labelled files from unmanaged devices",
# a blocking policy, most-restrictive-wins, fail-closed normalisation,
# X-Forwarded-For from trusted proxies only, the match records and their
# outcomes, and a change of policies taking effect without a restart.
. "$(dirname "$0")/lib.sh"
setup

cat >"$TMP/policies.json" <<'JSON'
{"policies":[
 {"name":"Step-up for labelled downloads on unmanaged devices","severity":"high","category":"DLP",
  "session_control":["control_file_download"],
  "activity_filters":{"device_tags":{"op":"not_equals","values":["compliant","hybrid_joined","valid_client_cert"]},
                      "activities":{"op":"in","values":["download"]}},
  "file_filters":{"labels":{"op":"in","values":["Confidential","Highly Confidential"]}},
  "action":{"type":"step_up","context":"c1"}},
 {"name":"Block highly confidential from outside","severity":"high","category":"DLP",
  "session_control":["block_activities"],
  "activity_filters":{"ip_ranges":{"op":"not_in","values":["10.0.0.0/8"]}},
  "file_filters":{"labels":{"op":"in","values":["Highly Confidential"]}},
  "action":{"type":"block"}},
 {"name":"No admin paths","severity":"medium","category":"Access",
  "session_control":["block_activities"],
  "activity_filters":{"url_path":{"op":"in","values":["/admin/**"]}},
  "action":{"type":"block"}}
]}
JSON
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" policy import "$TMP/policies.json" 2>&1); st=$?
is "policy import: exit 0" "$st" 0
sleep 1.2   # the set in force is reloaded when its version changes (looked at once a second)

chk() { # extra curl args... -> status
	curl -s -o /dev/null -w '%{http_code}' -H 'Host: 127.0.0.1:8088' "$@" "$SU/check"
}
dl=(-H 'X-Activity: download' -H 'X-File-Label: Confidential' -H 'X-Original-URI: /files/plan.pdf' -H 'X-File-Name: plan.pdf')

is "unmanaged device, labelled download, no session: 401" "$(chk "${dl[@]}")" 401
is "unmanaged device, labelled download, session: 401" "$(chk -H 'X-Stepup-Session: p1' "${dl[@]}")" 401
is "compliant device: 200" "$(chk -H 'X-Stepup-Session: p1' -H 'X-Device-Tags: compliant' "${dl[@]}")" 200
is "valid client certificate: 200" "$(chk -H 'X-Stepup-Session: p1' -H 'X-Device-Tags: Valid_Client_Cert' "${dl[@]}")" 200
is "unknown device tags only: still unmanaged, 401" "$(chk -H 'X-Stepup-Session: p1' -H 'X-Device-Tags: shiny' "${dl[@]}")" 401
is "unlabelled file: 200 (default allow)" "$(chk -H 'X-Stepup-Session: p1' -H 'X-Activity: download' -H 'X-Original-URI: /files/menu.pdf')" 200
is "labelled file viewed, not downloaded: 200" "$(chk -H 'X-Stepup-Session: p1' -H 'X-Activity: view' -H 'X-File-Label: Confidential' -H 'X-Original-URI: /files/plan.pdf')" 200
is "highly confidential from outside 10/8: block wins over step-up (403)" \
	"$(chk -H 'X-Stepup-Session: p1' -H 'X-Activity: download' -H 'X-File-Label: Highly Confidential' -H 'X-Original-URI: /files/x.pdf')" 403
is "X-Forwarded-For 10.1.2.3 from a trusted proxy: inside, so step-up only (401)" \
	"$(chk -H 'X-Stepup-Session: p1' -H 'X-Forwarded-For: 10.1.2.3' -H 'X-Activity: download' -H 'X-File-Label: Highly Confidential' -H 'X-Original-URI: /files/x.pdf')" 401
is "malformed X-Forwarded-For: 400, never allowed" "$(chk -H 'X-Forwarded-For: 10.1.2.3, bogus' "${dl[@]}")" 400

# path normalisation: the policy matches what the upstream routes
is "/admin/x: 403" "$(chk -H 'X-Original-URI: /admin/x')" 403
is "/files/../admin/x: 403" "$(chk -H 'X-Original-URI: /files/../admin/x')" 403
is "//admin/x: 403" "$(chk -H 'X-Original-URI: //admin/x')" 403
is "/%61dmin/x: 403" "$(chk -H 'X-Original-URI: /%61dmin/x')" 403
is "/ADMIN/x is another path: 200" "$(chk -H 'X-Original-URI: /ADMIN/x')" 200
is "/admin%2Fx (encoded slash): 400, never allowed" "$(chk -H 'X-Original-URI: /admin%2Fx')" 400
is "/../etc: 400" "$(chk -H 'X-Original-URI: /../etc')" 400
is "/a%zz: 400" "$(chk -H 'X-Original-URI: /a%zz')" 400
is "Envoy style /check/admin/x: 403" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: 127.0.0.1:8088' "$SU/check/admin/x")" 403
is "a control byte in X-File-Name: 400" "$(chk -H $'X-File-Name: a\x01b' "${dl[@]:0:4}")" 400

# the decisions API gives the same answers
dec() { out=$(api POST /api/v1/decisions "$1"); echo "${out#* }"; }
has "decisions: unmanaged labelled download -> step_up c1" \
	"$(dec '{"session":"p1","activity":"download","file_label":"Confidential","uri":"/files/plan.pdf"}')" '"decision":"step_up","context":"c1","policy":"Step-up for labelled downloads on unmanaged devices"'
has "decisions: compliant -> allow" "$(dec '{"session":"p1","device_tags":["compliant"],"activity":"download","file_label":"Confidential"}')" '"decision":"allow"'
has "decisions: highly confidential from 192.0.2.1 -> block" "$(dec '{"ip":"192.0.2.1","activity":"download","file_label":"Highly Confidential"}')" '"decision":"block"'
has "decisions: from 10.9.9.9 -> step_up" "$(dec '{"ip":"10.9.9.9","activity":"download","file_label":"Highly Confidential"}')" '"decision":"step_up"'
has "decisions: /files/../admin -> block" "$(dec '{"uri":"/files/../admin/x"}')" '"decision":"block","context":null,"policy":"No admin paths"'
out=$(api POST /api/v1/decisions '{"uri":"/a%2Fb"}'); is "decisions: un-normalisable uri: 400" "${out%% *}" 400
out=$(api POST /api/v1/decisions '{"ip":"not-an-ip"}'); is "decisions: bad ip: 400" "${out%% *}" 400
out=$(api POST /api/v1/decisions '{"colour":"red"}'); is "decisions: unknown member: 400" "${out%% *}" 400
out=$(api POST /api/v1/decisions '{"device_tags":5}'); is "decisions: wrong type: 400" "${out%% *}" 400
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "$SU/api/v1/decisions")
is "decisions without an API key: 401" "$code" 401

# step up through the policy's start URL; the match becomes stepped_up
loc=$(curl -s -D - -o /dev/null -H 'Host: 127.0.0.1:8088' -H 'X-Stepup-Session: p2' -H 'X-Stepup-User: alice' "${dl[@]}" "$SU/check" |
	awk -F': ' 'tolower($1)=="x-stepup-location"{print $2}' | tr -d '\r')
has "the 401 carries a start URL" "$loc" "$SU/stepup/start?t="
sleep 0.3
is "the match is recorded as pending" \
	"$(db_count "select count(*) from policy_matches where user='alice' and outcome='pending' and decision='step_up'")" 1
browse "$TMP/jp2" "$loc"
is "step-up from the policy's start URL: 303 back to the file" "$HOP_CODE" 303
is "back to the file's URL" "$HOP_LOC" "http://127.0.0.1:8088/files/plan.pdf"
is "then the same download: 200" "$(chk -H 'X-Stepup-Session: p2' -H 'X-Stepup-User: alice' "${dl[@]}")" 200
sleep 0.5
is "the first match's outcome is now stepped_up" \
	"$(db_count "select outcome from policy_matches where user='alice' order by id limit 1")" stepped_up
is "the download after step-up is recorded as stepped_up too" \
	"$(db_count "select count(*) from policy_matches where user='alice' and outcome='stepped_up'")" 2
is "blocked requests are recorded as blocked" \
	"$(db_count "select count(*) from policy_matches where outcome='blocked' and policy_name='No admin paths'")" 5

# a change of policy takes effect without a restart
echo '{"policies":[{"name":"Block everything from here","severity":"low","session_control":["block_activities"],"action":{"type":"block"}}]}' >"$TMP/p2.json"
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" policy import "$TMP/p2.json" 2>&1); st=$?
is "second import: exit 0" "$st" 0
sleep 1.2
is "after a new import: a plain request is blocked (403)" "$(chk -H 'X-Original-URI: /menu')" 403
echo '{"policies":[]}' >"$TMP/p3.json"
"$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" policy import "$TMP/p3.json" >/dev/null 2>&1
sleep 1.2
is "after importing no policies: default allow (200)" "$(chk -H 'X-Original-URI: /menu')" 200

done_testing
