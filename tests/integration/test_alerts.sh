#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Policy alerts end to end (docs/alerts.md): a policy with alerts on
# (daily_limit 2, webhook and two mail recipients), matches driven through
# GET /check with the proxy's attribute headers, a webhook receiver and an
# SMTP sink (alert_sinks.py). Checks: every match recorded, exactly the
# daily limit of alerts, a valid HMAC-SHA256 signature over the exact body
# (and an invalid one with another secret), the mails; then with both
# receivers down: /check still answers, the alerts wait in the outbox as
# pending with their error, and are delivered once the receivers are back;
# last, a SIGTERM right after a burst of requests loses no match record.
. "$(dirname "$0")/lib.sh"

HOOK_PORT=$(free_port)
SMTP_PORT=$(free_port)
SINKS=$TMP/sinks
SINKS_PID=
SECRET=alert-hmac-secret-0123456789abcdef

start_sinks() {
	python3 "$ROOT/tests/integration/alert_sinks.py" serve --webhook-port "$HOOK_PORT" \
		--smtp-port "$SMTP_PORT" --out "$SINKS" >>"$TMP/sinks.log" 2>&1 &
	SINKS_PID=$!
	wait_http "http://127.0.0.1:$HOOK_PORT/ready" || { echo "# alert sinks did not start"; cat "$TMP/sinks.log"; exit 1; }
}
stop_sinks() {
	[ -n "$SINKS_PID" ] && kill "$SINKS_PID" 2>/dev/null && wait "$SINKS_PID" 2>/dev/null
	SINKS_PID=
}
trap 'stop_sinks; cleanup' EXIT

lines() { [ -f "$1" ] && wc -l <"$1" | tr -d ' ' || echo 0; }
# wait_for DESCRIPTION WANT COMMAND...: polls (up to 30 s) until the command prints WANT
wait_for() {
	local d=$1 want=$2 got=
	shift 2
	for _ in $(seq 300); do
		got=$("$@")
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	is "$d" "$got" "$want"
}

STEPUPD_PORT=$(free_port)
start_mock
write_conf
printf '%s\n' "$SECRET" >"$TMP/hook.secret"
cat >>"$TMP/stepupd.conf" <<CONF

[alerts]
webhook_url = http://127.0.0.1:$HOOK_PORT/hooks/stepupd?token=t0ken
webhook_secret_file = ./hook.secret
webhook_timeout = 5
smtp_url = smtp://127.0.0.1:$SMTP_PORT
smtp_from = alerts@stepupd.test
smtp_timeout = 5
retry_min = 1
retry_max = 2
CONF
check_config() { "$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" check-config >/dev/null; }
check "config with [alerts] is valid" check_config
start_sinks
start_stepupd

P1='Confidential downloads from unmanaged devices'
P2='Secret downloads'
policy_json() { # with_second_policy(0|1)
	printf '{"policies":[\n'
	printf ' {"name":"%s","severity":"high","category":"DLP",\n' "$P1"
	printf '  "session_control":["control_file_download"],\n'
	printf '  "activity_filters":{"device_tags":{"op":"not_equals","values":["compliant","hybrid_joined","valid_client_cert"]},\n'
	printf '                      "activities":{"op":"in","values":["download"]}},\n'
	printf '  "file_filters":{"labels":{"op":"in","values":["Confidential"]}},\n'
	printf '  "action":{"type":"step_up","context":"c1"},\n'
	printf '  "alerts":{"enabled":true,"daily_limit":2,"webhook":true,"email":["secops@example.org","soc@example.org"]}}'
	if [ "$1" = 1 ]; then
		printf ',\n {"name":"%s","severity":"medium","category":"DLP",\n' "$P2"
		printf '  "session_control":["control_file_download"],\n'
		printf '  "activity_filters":{"activities":{"op":"in","values":["download"]}},\n'
		printf '  "file_filters":{"labels":{"op":"in","values":["Secret"]}},\n'
		printf '  "action":{"type":"step_up","context":"c1"},\n'
		printf '  "alerts":{"enabled":true,"daily_limit":2,"webhook":true,"email":["secops@example.org"]}}'
	fi
	printf '\n]}\n'
}
policy_json 0 >"$TMP/policies.json"
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" policy import "$TMP/policies.json" 2>&1); st=$?
is "policy import: exit 0" "$st" 0
[ "$st" = 0 ] || echo "# $out"
sleep 1.2 # the set in force is reloaded when its version changes (looked at once a second)

chk() { # SESSION LABEL -> status of /check (an unmanaged device downloading a labelled file)
	curl -s -o /dev/null -w '%{http_code}' -H "X-Stepup-Session: $1" -H 'X-Device-Tags;' \
		-H "X-File-Label: $2" -H 'X-File-Name: plan.pdf' -H 'X-Activity: download' -H 'X-App: files' \
		-H 'X-Stepup-User: alice' -H 'X-Original-URI: /files/plan.pdf' -H 'Host: 127.0.0.1:8088' "$SU/check"
}
sql() { sqlite3 "$TMP/var/stepupd.db" "$1"; }
pid1=$(sql "select id from policies where name = '$P1'")

# --- four matches, daily limit 2
for i in 1 2 3 4; do
	is "check $i: step-up needed (401)" "$(chk "alert-sess-$i" Confidential)" 401
done
wait_for "all four matches recorded" 4 sql "select count(*) from policy_matches where policy_id = $pid1"
wait_for "exactly two alerts (daily_limit 2)" 2 sql "select count(*) from alerts where policy_id = $pid1"
wait_for "all six deliveries sent (2 webhook + 2 x 2 mail)" "6 0" \
	sql "select sum(status = 'sent') || ' ' || sum(status = 'pending') from alert_deliveries"
is "the webhook got exactly two alerts" "$(lines "$SINKS/webhook.jsonl")" 2
is "the SMTP sink got exactly four mails" "$(lines "$SINKS/mail.jsonl")" 4
is "both webhook signatures are valid" "$(python3 "$ROOT/tests/integration/alert_sinks.py" verify \
	--secret-file "$TMP/hook.secret" --log "$SINKS/webhook.jsonl")" "2 0"
printf 'another-secret-0123456789abcdef\n' >"$TMP/wrong.secret"
is "with another secret both signatures are refused" "$(python3 "$ROOT/tests/integration/alert_sinks.py" verify \
	--secret-file "$TMP/wrong.secret" --log "$SINKS/webhook.jsonl")" "0 2"
hook=$(python3 - "$SINKS/webhook.jsonl" <<'PY'
import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
out = []
for r in recs:
    b = json.loads(base64.b64decode(r["body_b64"]))
    h = r["headers"]
    out.append("path=%s ctype=%s ts_matches=%s alert_id=%s policy=%s severity=%s category=%s user=%s app=%s "
               "file=%s label=%s activity=%s path=%s decision=%s context=%s outcome=%s time=%s" % (
        r["path"], h.get("content-type"), str(h.get("x-stepup-timestamp")) == str(b.get("sent_at")),
        h.get("x-stepup-alert-id") == str(b.get("alert_id")), b.get("policy"), b.get("severity"),
        b.get("category"), b.get("user"), b.get("app"), b.get("file"), b.get("label"), b.get("activity"),
        b.get("path"), b.get("decision"), b.get("context"), b.get("outcome"), "Z" in str(b.get("time"))))
print("\n".join(out))
PY
)
has "webhook posted to the configured path and query" "$hook" "path=/hooks/stepupd?token=t0ken"
has "webhook body is JSON" "$hook" "ctype=application/json"
has "X-Stepup-Timestamp is the signed sent_at" "$hook" "ts_matches=True"
hasnt "... on every call" "$hook" "ts_matches=False"
has "X-Stepup-Alert-Id names the alert" "$hook" "alert_id=True"
for kv in "policy=$P1" severity=high category=DLP user=alice app=files file=plan.pdf label=Confidential \
	activity=download path=/files/plan.pdf decision=step_up context=c1 outcome=pending time=True; do
	has "webhook body carries $kv" "$hook" "$kv"
done
grep -q 'alert-sess-' "$SINKS/webhook.jsonl" "$SINKS/mail.jsonl" && notok "a session id reached an alert" ||
	ok "no session id in any alert"
mail=$(python3 - "$SINKS/mail.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print("FROM=%s RCPT=%s" % (r["from"], ",".join(r["rcpt"])))
    print(r["data"])
PY
)
has "mail envelope sender" "$mail" "FROM=<alerts@stepupd.test>"
has "mail to the first recipient" "$mail" "RCPT=<secops@example.org>"
has "mail to the second recipient" "$mail" "RCPT=<soc@example.org>"
has "mail subject names severity and policy" "$mail" "Subject: [stepupd] high alert: $P1"
has "mail From header" "$mail" "From: <alerts@stepupd.test>"
has "mail body names the label" "$mail" "Label:     Confidential"
has "mail body names the user" "$mail" "User:      alice"
has "mail is plain text" "$mail" "Content-Type: text/plain; charset=utf-8"
is "matches of the limited policy stay pending until a step-up" \
	"$(sql "select count(*) from policy_matches where policy_id = $pid1 and outcome = 'pending'")" 4

# --- receivers down: /check still answers; alerts wait in the outbox
stop_sinks
policy_json 1 >"$TMP/policies.json"
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" policy import "$TMP/policies.json" 2>&1); st=$?
is "second policy imported" "$st" 0
[ "$st" = 0 ] || echo "# $out"
is "the first policy kept its id" "$(sql "select id from policies where name = '$P1'")" "$pid1"
sleep 1.2
pid2=$(sql "select id from policies where name = '$P2'")
is "receivers down: check answers (401)" "$(chk alert-sess-5 Secret)" 401
is "receivers down: check answers again (401)" "$(chk alert-sess-6 Secret)" 401
is "receivers down: the limited policy still answers (401)" "$(chk alert-sess-7 Confidential)" 401
wait_for "receivers down: the matches are recorded" 2 sql "select count(*) from policy_matches where policy_id = $pid2"
wait_for "receivers down: two alerts in the outbox" 2 sql "select count(*) from alerts where policy_id = $pid2"
wait_for "receivers down: four deliveries pending, each with an error" 4 \
	sql "select count(*) from alert_deliveries d join alerts a on a.id = d.alert_id
	     where a.policy_id = $pid2 and d.status = 'pending' and d.last_error is not null"
is "receivers down: each channel was tried (the rest held back, not hammered)" \
	"$(sql "select count(distinct d.channel) from alert_deliveries d join alerts a on a.id = d.alert_id
	        where a.policy_id = $pid2 and d.attempts >= 1")" 2
errs=$(sql "select channel || ': ' || last_error from alert_deliveries where last_error is not null")
has "the webhook error says why" "$errs" "webhook: webhook http://127.0.0.1:$HOOK_PORT"
has "the mail error says why" "$errs" "email: SMTP smtp://127.0.0.1:$SMTP_PORT"
hasnt "no error shows the webhook's token" "$errs" "t0ken"
is "no alert for the policy over its limit" "$(sql "select count(*) from alerts where policy_id = $pid1")" 2
wait_for "its match is recorded all the same" 5 sql "select count(*) from policy_matches where policy_id = $pid1"
is "nothing reached the webhook while it was down" "$(lines "$SINKS/webhook.jsonl")" 2

# --- receivers back: the pending alerts are delivered
start_sinks
wait_for "receivers back: every delivery sent" 0 sql "select count(*) from alert_deliveries where status = 'pending'"
is "the webhook now has four alerts" "$(lines "$SINKS/webhook.jsonl")" 4
is "the SMTP sink now has six mails" "$(lines "$SINKS/mail.jsonl")" 6
is "all four signatures are valid" "$(python3 "$ROOT/tests/integration/alert_sinks.py" verify \
	--secret-file "$TMP/hook.secret" --log "$SINKS/webhook.jsonl")" "4 0"
is "the late deliveries kept their history" \
	"$(sql "select count(*) from alert_deliveries d join alerts a on a.id = d.alert_id where a.policy_id = $pid2 and d.last_error is not null and d.sent_at > 0")" 4
has "the late mail names the second policy" "$(cat "$SINKS/mail.jsonl")" "medium alert: $P2"

# --- a clean stop right after a burst loses no record
burst=()
for i in $(seq 30); do
	curl -s -o /dev/null -H "X-Stepup-Session: burst-$i" -H 'X-Device-Tags;' -H 'X-File-Label: Confidential' \
		-H 'X-Activity: download' -H 'X-Original-URI: /files/plan.pdf' -H 'Host: 127.0.0.1:8088' "$SU/check" &
	burst+=($!)
done
for p in "${burst[@]}"; do wait "$p"; done
kill -TERM "$STEPUPD_PID"
wait "$STEPUPD_PID"
is "SIGTERM: stepupd exits 0" "$?" 0
is "SIGTERM right after 30 requests: every match is in the store" \
	"$(sql "select count(*) from policy_matches where policy_id = $pid1")" 35
grep -q 'burst-' "$TMP/stepupd.log" && notok "a session id was logged" || ok "no session id logged"

done_testing
