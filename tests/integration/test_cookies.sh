#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Cookie attributes: Secure and HSTS when public_url is https; the
# configurable Domain of the stepup_session cookie ([server] cookie_domain).
. "$(dirname "$0")/lib.sh"
STEPUPD_PORT=$(free_port)
start_mock
write_conf
# public_url https (a TLS proxy in front, as in production); stepupd itself listens on http here
sed -i "s|^public_url = .*|public_url = https://127.0.0.1:$STEPUPD_PORT|; s|^allowed_return_origins = .*|allowed_return_origins = https://app.test|" "$TMP/stepupd.conf"
start_stepupd
url=$(start_url "" alice c1 https://app.test/file)
hop "$TMP/j" "${url/https:/http:}"
cookie=$(echo "$HOP_HDR" | grep -i '^set-cookie: stepup_flow_')
has "https public_url: the flow cookie is Secure" "$cookie" "; Secure"
has "and HttpOnly" "$cookie" "HttpOnly"
has "https public_url: HSTS on every answer" "$(curl -s -D - -o /dev/null "http://127.0.0.1:$STEPUPD_PORT/healthz")" "Strict-Transport-Security: max-age="
kill "$STEPUPD_PID"; wait "$STEPUPD_PID" 2>/dev/null

# cookie_domain: the session cookie minted at elevation carries Domain
rm -rf "$TMP/var"
sed -i "s|^public_url = .*|public_url = http://127.0.0.1:$STEPUPD_PORT|; s|^allowed_return_origins = .*|allowed_return_origins = http://127.0.0.1:8088|" "$TMP/stepupd.conf"
sed -i "s|^\[database\]|cookie_domain = app.test\n\n[database]|" "$TMP/stepupd.conf"
start_stepupd
browse "$TMP/j2" "$(start_url "" alice c1)"
is "elevation without a named session: 303" "$HOP_CODE" 303
cookie=$(echo "$HOP_HDR" | grep -i '^set-cookie: stepup_session=')
has "the session cookie carries the configured Domain" "$cookie" "; Domain=app.test"
hasnt "no Secure on a plain-http public_url" "$cookie" "Secure"
kill "$STEPUPD_PID"; wait "$STEPUPD_PID" 2>/dev/null

# a bad cookie_domain is a config error naming the line
sed -i "s|^cookie_domain = app.test|cookie_domain = com|" "$TMP/stepupd.conf"
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" check-config 2>&1); st=$?
is "cookie_domain = com: check-config exits 1" "$st" 1
has "and names the line" "$out" "stepupd.conf:"
sed -i "s|^cookie_domain = com|cookie_domain = a..b|" "$TMP/stepupd.conf"
out=$("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" check-config 2>&1); st=$?
is "cookie_domain = a..b: check-config exits 1" "$st" 1
done_testing
