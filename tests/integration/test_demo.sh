#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make demo` works: it starts, prints a start link, the link completes a
# step-up in a curl "browser", /check then answers 200, and Ctrl-C stops it.
. "$(dirname "$0")/lib.sh"
for port in 8080 9400; do
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
kill -INT -- -"$DEMO" 2>/dev/null
for _ in $(seq 100); do kill -0 "$DEMO" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DEMO" 2>/dev/null && { notok "demo stops on Ctrl-C"; kill -KILL -- -"$DEMO"; } || ok "demo stops on Ctrl-C"
rm -rf "$ROOT/var/demo"
done_testing
