#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# make demo: the mock OpenID Provider on 127.0.0.1:9400 and stepupd on
# 127.0.0.1:8080 with demo/stepupd.conf; prints the URLs and a ready start
# link, then runs until Ctrl-C.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VAR=var/demo
mkdir -p "$VAR"
[ -f "$VAR/api.keys" ] || { echo "demo:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$VAR/api.keys"; chmod 600 "$VAR/api.keys"; }
KEY=$(cut -d: -f2 "$VAR/api.keys")
for port in 8080 9400; do
	if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
		echo "port $port is in use on 127.0.0.1: stop what runs there (an earlier make demo?) and retry" >&2
		exit 1
	fi
done
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; echo; echo "demo stopped"; }
trap stop EXIT
trap 'exit 0' INT TERM

"$BUILD/mock_op" --port 9400 --issuer http://127.0.0.1:9400 --client-id stepup-rp \
	--client-secret stepup-secret --redirect-uri http://127.0.0.1:8080/oidc/callback >"$VAR/mock_op.log" 2>&1 &
pids+=($!)
"$BUILD/stepupd" -c demo/stepupd.conf serve >"$VAR/stepupd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	curl -s -o /dev/null http://127.0.0.1:8080/healthz && curl -s -o /dev/null http://127.0.0.1:9400/jwks && break
	sleep 0.1
done
link() { # user context session
	curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
		--data "{\"session\":\"$3\",\"user\":\"$1\",\"context\":\"$2\",\"return_to\":\"http://127.0.0.1:9400/app/report.pdf\"}" \
		http://127.0.0.1:8080/api/v1/stepups | sed -n 's/.*"url":"\([^"]*\)".*/\1/p'
}
cat <<TXT

stepupd demo
  stepupd           http://127.0.0.1:8080/        (log: $VAR/stepupd.log)
  mock OpenID Provider http://127.0.0.1:9400/.well-known/openid-configuration (log: $VAR/mock_op.log)
  API key           $KEY   (in $VAR/api.keys)

1. Ask stepupd whether session "demo-session" may open a file that needs context c1:
   curl -i -H 'X-Stepup-Session: demo-session' -H 'X-Stepup-Context: c1' \\
        -H 'X-Original-URI: /app/report.pdf' -H 'Host: 127.0.0.1:9400' http://127.0.0.1:8080/check
   -> 401, with the start URL in X-Stepup-Location

2. Open this start link in a browser (alice signs in with MFA at the mock IdP and comes back
   to the app page); each link works once and for 5 minutes:
   $(link alice c1 demo-session)

3. Ask again: the same curl now answers 200 with X-Stepup-User: alice.
   See the elevation:  curl -H "Authorization: Bearer $KEY" -H 'X-Stepup-Session: demo-session' http://127.0.0.1:8080/api/v1/session
   Revoke it:          curl -X DELETE -H "Authorization: Bearer $KEY" -H 'X-Stepup-Session: demo-session' http://127.0.0.1:8080/api/v1/session

A user who cannot reach the context (bob has a password only) gets an error page and no elevation:
   $(link bob c1 bob-session)

More links: curl -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
   --data '{"session":"s2","user":"alice","context":"mfa","return_to":"http://127.0.0.1:9400/app/x"}' http://127.0.0.1:8080/api/v1/stepups

Ctrl-C stops the demo.
TXT
wait
