#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make demo` works: it starts, prints a start link, the link completes a
# step-up in a curl "browser", /check then answers 200; through the demo's
# nginx a labelled file needs a step-up and then downloads, a managed device
# gets it directly, a Highly Confidential file is blocked; and Ctrl-C stops
# it all.
. "$(dirname "$0")/lib.sh"
for port in 8080 9400 9401 8088 8443; do
	if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
		echo "# port $port busy: skipping the demo test"; ok "demo skipped (port $port busy)"; done_testing; exit 0
	fi
done
rm -rf "$ROOT/var/demo"
setsid bash "$ROOT/tests/demo.sh" >"$TMP/demo.out" 2>&1 &
DEMO=$!
for _ in $(seq 100); do grep -q 'Ctrl-C stops' "$TMP/demo.out" && break; sleep 0.1; done
has "demo prints stepupd's URL" "$(cat "$TMP/demo.out")" "http://127.0.0.1:8080/"
link=$(grep -m1 '/stepup/start?t=' "$TMP/demo.out" | tr -d ' ')
has "demo prints a start link" "$link" "http://127.0.0.1:8080/stepup/start?t="
out=$(curl -s -c "$TMP/j" -b "$TMP/j" -L -o "$TMP/page" -w '%{http_code} %{url_effective}' "$link")
is "the link walks through the mock IdP back to the app" "$out" "200 http://127.0.0.1:9400/app/report.pdf"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: demo-session' -H 'X-Stepup-Context: c1' http://127.0.0.1:8080/check)
is "the demo session is elevated" "$code" 200
# the SAML link (printed last): start -> mock SAML IdP -> its form, posted by hand -> the app
link=$(grep '/stepup/start?t=' "$TMP/demo.out" | tail -1 | tr -d ' ')
curl -s -c "$TMP/js" -b "$TMP/js" -L -o "$TMP/form.html" "$link"
field() { python3 -c 'import re,sys,html; m=re.search(sys.argv[2]+"\"[^>]*value=\"([^\"]*)\"", open(sys.argv[1]).read()); print(html.unescape(m.group(1)) if m else "")' "$TMP/form.html" "$1"; }
out=$(curl -s -c "$TMP/js" -b "$TMP/js" -L -o /dev/null -w '%{http_code} %{url_effective}' \
	--data-urlencode "SAMLResponse=$(field SAMLResponse)" --data-urlencode "RelayState=$(field RelayState)" \
	http://127.0.0.1:8080/saml/acs)
is "the SAML link walks through the mock SAML IdP back to the app" "$out" "200 http://127.0.0.1:9400/app/report.pdf"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Stepup-Session: demo-saml-session' -H 'X-Stepup-Context: saml-mfa' http://127.0.0.1:8080/check)
is "the demo SAML session is elevated" "$code" 200
# the nginx part: the file app on 8088 (http) and 8443 (mutual TLS)
F=/files/confidential/salaries.csv
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8088$F")
is "demo nginx: a labelled file from an unmanaged device is sent to step-up" "$code" 302
out=$(curl -s -c "$TMP/j2" -b "$TMP/j2" -L -o "$TMP/file" -w '%{http_code} %{url_effective}' "http://127.0.0.1:8088$F")
is "demo nginx: after the step-up the browser is back on the file" "$out" "200 http://127.0.0.1:8088$F"
has "demo nginx: and gets its content" "$(cat "$TMP/file")" "CONFIDENTIAL-7f3a91"
C=$ROOT/var/demo/certs
code=$(curl -s -o "$TMP/file2" -w '%{http_code}' --cacert "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key" "https://127.0.0.1:8443$F")
is "demo nginx: a managed device gets the file directly" "$code" 200
code=$(curl -s -b "$TMP/j2" -o "$TMP/file3" -w '%{http_code}' http://127.0.0.1:8088/files/highly-confidential/merger-plan.txt)
is "demo nginx: a Highly Confidential file is blocked by policy, even after a step-up" "$code" 403
# the console with the demo admin the demo printed
pw=$(awk '/admin console/{print $NF}' "$TMP/demo.out")
has "demo prints the console link and the admin's password" "$(grep 'admin console' "$TMP/demo.out")" "http://127.0.0.1:8080/admin/"
csrf=$(curl -s -c "$TMP/aj" -b "$TMP/aj" http://127.0.0.1:8080/admin/login | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
code=$(curl -s -c "$TMP/aj" -b "$TMP/aj" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$csrf" \
	--data-urlencode user=admin --data-urlencode "password=$pw" http://127.0.0.1:8080/admin/login)
is "the demo admin signs in (303)" "$code" 303
has "the console lists the demo's elevated sessions" "$(curl -s -b "$TMP/aj" http://127.0.0.1:8080/admin/sessions)" "alice"
kill -INT -- -"$DEMO" 2>/dev/null
for _ in $(seq 100); do kill -0 "$DEMO" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DEMO" 2>/dev/null && { notok "demo stops on Ctrl-C"; kill -KILL -- -"$DEMO"; } || ok "demo stops on Ctrl-C"
rm -rf "$ROOT/var/demo"
done_testing
