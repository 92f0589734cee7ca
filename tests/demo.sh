#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# make demo: the mock OpenID Provider on 127.0.0.1:9400, stepupd on
# 127.0.0.1:8080 with demo/stepupd.conf, and nginx in front of a small file
# app (tests/nginx/) on 127.0.0.1:8088 (http) and 127.0.0.1:8443 (https with
# optional client certificates: the "managed device"); prints the URLs, a
# ready start link and the commands to try, then runs until Ctrl-C.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VAR=var/demo
mkdir -p "$VAR"
[ -f "$VAR/api.keys" ] || { echo "demo:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$VAR/api.keys"; chmod 600 "$VAR/api.keys"; }
KEY=$(cut -d: -f2 "$VAR/api.keys")
for port in 8080 9400 9401 8088 8443; do
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
# the mock SAML IdP on 9401: throwaway keys, its metadata for stepupd (the
# SP metadata it fetches from stepupd on the first sign-in)
bash certs/make-test-certs.sh "$VAR/saml" saml >/dev/null
rm -f "$VAR/saml/idp-metadata.xml"
"$BUILD/mock_saml" --port 9401 --key "$VAR/saml/idp.key" --cert "$VAR/saml/idp.crt" \
	--evil-key "$VAR/saml/evil-idp.key" --evil-cert "$VAR/saml/evil-idp.crt" \
	--sp-metadata-url http://127.0.0.1:8080/saml/metadata \
	--metadata-out "$VAR/saml/idp-metadata.xml" >"$VAR/mock_saml.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$VAR/saml/idp-metadata.xml" ] && break; sleep 0.1; done
# The session policies: the seed tutorial's (examples/policies/seed.json)
# plus the demo's block (demo/policies-extra.json), imported as one set. If
# this build cannot import them, nginx names the context itself instead
# (tests/nginx/render.sh CONTEXT_MAP) and nothing is blocked.
CONTEXT_MAP='		"Confidential|" c1;'
merge='import json, sys
print(json.dumps({"policies": [p for f in sys.argv[1:] for p in json.load(open(f))["policies"]]}, indent=2))'
if python3 -c "$merge" examples/policies/seed.json demo/policies-extra.json >"$VAR/policies.json" 2>"$VAR/policy-import.log" &&
	"$BUILD/stepupd" -c demo/stepupd.conf policy import "$VAR/policies.json" >>"$VAR/policy-import.log" 2>&1; then
	CONTEXT_MAP=
else
	echo "policy import failed (see $VAR/policy-import.log): nginx decides the context itself" >&2
fi
# a demo administrator for the console, with a password made now
[ -f "$VAR/admin.password" ] || { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$VAR/admin.password"; chmod 600 "$VAR/admin.password"; }
ADMIN_PW=$(cat "$VAR/admin.password")
echo "$ADMIN_PW" | "$BUILD/stepupd" -c demo/stepupd.conf admin passwd admin >"$VAR/admin.log" 2>&1 ||
	echo "could not create the demo admin (see $VAR/admin.log)" >&2
"$BUILD/stepupd" -c demo/stepupd.conf serve >"$VAR/stepupd.log" 2>&1 &
pids+=($!)
# nginx in front of the file app, with its own test CA and certificates
bash certs/make-test-certs.sh "$VAR/certs" >/dev/null
STEPUPD=127.0.0.1:8080 HTTP_LISTEN=127.0.0.1:8088 TLS_LISTEN=127.0.0.1:8443 CERTS=$PWD/$VAR/certs \
	APP=files CONTEXT_MAP=$CONTEXT_MAP bash tests/nginx/render.sh "$PWD/$VAR/nginx"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$NGINX" -p "$PWD/$VAR/nginx" -e "$PWD/$VAR/nginx/error.log" -c "$PWD/$VAR/nginx/nginx.conf" \
	2>>"$VAR/nginx/error.log" &
pids+=($!)
for _ in $(seq 100); do
	curl -s -o /dev/null http://127.0.0.1:8080/healthz && curl -s -o /dev/null http://127.0.0.1:9400/jwks &&
		curl -s -o /dev/null http://127.0.0.1:8088/files/public/welcome.txt && break
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
  mock SAML IdP     http://127.0.0.1:9401/metadata (log: $VAR/mock_saml.log)
  file app (nginx)  http://127.0.0.1:8088/        (config and logs: $VAR/nginx/)
                    https://127.0.0.1:8443/       (mutual TLS; test CA: $VAR/certs/ca.crt)
  admin console     http://127.0.0.1:8080/admin/   user: admin   password: $ADMIN_PW
  API key           $KEY   (in $VAR/api.keys)
  decisions by      $( [ -z "$CONTEXT_MAP" ] && echo "stepupd's session policies: examples/policies/seed.json + demo/policies-extra.json" || echo "nginx: label Confidential from an unmanaged device needs context c1" )

The whole story, in a browser: open http://127.0.0.1:8088/ and download
files/confidential/salaries.csv. nginx asks stepupd, which sends you to
step-up: the mock IdP signs alice in with MFA at once and you come back to the
file. Unlabelled files download directly; Highly Confidential ones are blocked
(403). A managed device skips the step-up:
   curl --cacert $VAR/certs/ca.crt --cert $VAR/certs/client.crt --key $VAR/certs/client.key \\
        https://127.0.0.1:8443/files/confidential/salaries.csv
The same with curl as the "browser" (one cookie jar = one browser):
   curl -L -c /tmp/demo.jar -b /tmp/demo.jar http://127.0.0.1:8088/files/confidential/salaries.csv
Revoke that browser's session (its stepup_session cookie) and the next download asks again:
   curl -X DELETE -H "Authorization: Bearer $KEY" \\
        -H "X-Stepup-Session: \$(awk '\$6=="stepup_session"{print \$7}' /tmp/demo.jar)" \\
        http://127.0.0.1:8080/api/v1/session
Stop stepupd and nginx answers with an error page, never the file.

Asking stepupd directly, the way a proxy does:

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

The same with SAML 2.0 (context saml-mfa, the mock SAML IdP; its page posts the signed
response back to stepupd's ACS by itself):
   $(link alice saml-mfa demo-saml-session)

More links: curl -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
   --data '{"session":"s2","user":"alice","context":"mfa","return_to":"http://127.0.0.1:9400/app/x"}' http://127.0.0.1:8080/api/v1/stepups

Ctrl-C stops the demo.
TXT
wait
