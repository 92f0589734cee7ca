#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Interop: stepupd against a real OpenID Provider (npm oidc-provider, see op.js).
# Prints TAP lines. Needs: curl, node (Debian packages) and tests/interop/node_modules
# (installed here with `npm ci` from the committed lock file when missing).
#
#   BUILD=build bash tests/interop/test_oidc_provider.sh
#   (KEEP_TMP=1 keeps the temp dir: config, logs of stepupd and both OPs)
#
# Users at the OP: alice can do MFA; bob cannot and the OP refuses him with
# error=unmet_authentication_requirements; carol cannot and the OP silently
# issues acr urn:test:loa:1 without acrs (only stepupd's own checks stop her).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/stepupd-interop-op.XXXXXX") || exit 1
OP_PID=
OP2_PID=
SD_PID=
cleanup() {
	local st=$?
	stop_pid "$SD_PID"
	stop_pid "$OP_PID"
	stop_pid "$OP2_PID"
	if [ "$failed" -ne 0 ] || [ "$st" -ne 0 ]; then
		for f in stepupd.err op.err op2.err; do
			[ -s "$T/$f" ] && { echo "# --- last lines of $f"; tail -40 "$T/$f" | diag; }
		done
	fi
	if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- prerequisites
command -v curl >/dev/null || bail "curl is installed"
command -v node >/dev/null || bail "node is installed"
# oidc-provider 9 needs crypto.hash (Node >= 20.12); Debian 12's own nodejs is 18
node -e 'process.exit(typeof require("crypto").hash === "function" ? 0 : 1)' ||
	bail "node >= 20.12 for oidc-provider 9 (found $(node --version))"
[ -x "$STEPUPD" ] || bail "stepupd is built ($STEPUPD)"
if [ ! -d "$HERE/node_modules/oidc-provider" ]; then
	(cd "$HERE" && npm ci --no-audit --no-fund --silent) >"$T/npm.log" 2>&1 ||
		{ diag <"$T/npm.log"; bail "npm ci in tests/interop"; }
fi

# four free loopback ports: the OP, a second OP signing with ES256, stepupd,
# the (never contacted) return origin
read -r OP_PORT OP2_PORT SD_PORT RET_PORT < <(node -e '
const net = require("net"); const s = [0, 1, 2, 3].map(() => net.createServer());
let left = 4; const p = [];
s.forEach((x, i) => x.listen(0, "127.0.0.1", () => { p[i] = x.address().port;
  if (--left === 0) { console.log(p.join(" ")); s.forEach((y) => y.close()); } }));')
[ -n "${RET_PORT:-}" ] || bail "picked free ports"
OP=http://127.0.0.1:$OP_PORT
OP2=http://127.0.0.1:$OP2_PORT
SD=http://127.0.0.1:$SD_PORT
RET=http://127.0.0.1:$RET_PORT
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

# ---- the OpenID Provider
node "$HERE/op.js" --port "$OP_PORT" --issuer "$OP" --client-id stepup-rp \
	--client-secret stepup-secret --redirect-uri "$SD/oidc/callback" --verbose \
	>"$T/op.out" 2>"$T/op.err" &
OP_PID=$!
node "$HERE/op.js" --port "$OP2_PORT" --issuer "$OP2" --client-id stepup-rp \
	--client-secret stepup-secret --redirect-uri "$SD/oidc/callback" --verbose \
	--id-token-alg ES256 >"$T/op2.out" 2>"$T/op2.err" &
OP2_PID=$!
op_ready() { grep -qx ready "$T/op.out" 2>/dev/null && grep -qx ready "$T/op2.out" 2>/dev/null; }
wait_for 15 op_ready || bail "oidc-provider OPs started (op.js printed ready)"
ok "oidc-provider OPs started on $OP (RS256) and $OP2 (ES256)"

# ---- stepupd
printf 'test:%s\n' "$TOKEN" >"$T/api.keys"
chmod 600 "$T/api.keys"
cat >"$T/stepupd.conf" <<EOF
[server]
listen = 127.0.0.1:$SD_PORT
public_url = $SD
allowed_return_origins = $RET

[database]
path = ./stepupd.db

[secrets]
key_file = ./secret.key

[api]
key_file = ./api.keys

[provider "op"]
type = oidc
issuer = $OP
client_id = stepup-rp
client_secret = stepup-secret

[context "c1"]
provider = op
acrs = c1

[context "loa3"]
provider = op
acr = urn:test:loa:3

; the second OP signs ID tokens with ES256
[provider "es"]
type = oidc
issuer = $OP2
client_id = stepup-rp
client_secret = stepup-secret
id_token_alg = ES256

[provider "es_strict"]
type = oidc
issuer = $OP2
client_id = stepup-rp
client_secret = stepup-secret

[context "es_ok"]
provider = es
acrs = c1

[context "es_bad"]
provider = es_strict
acrs = c1
EOF

sd_start "the interop config"

# ---- helpers
# json FILE JS-EXPR: evaluates EXPR with j = parsed FILE; exit 0 when truthy, prints strings
json() {
	node -e '
const fs = require("fs"); let j;
try { j = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { process.exit(2); }
let r; try { r = eval(process.argv[2]); } catch { process.exit(3); }
if (typeof r === "string") console.log(r);
process.exit(r ? 0 : 1);' "$1" "$2"
}
# check_status session context -> sets CODE. Asks as a proxy in front of the
# return origin would: Host is that origin, X-Original-URI the protected path
# (without them stepupd cannot build an allowed return URL and answers 400).
check_status() {
	CODE=$(curl -s -o "$T/check.body" -D "$T/check.hdr" -w '%{http_code}' --max-time 10 \
		-H "Host: 127.0.0.1:$RET_PORT" -H "X-Original-URI: /files/report.pdf?v=1" \
		-H 'X-Original-Method: GET' \
		-H "X-Stepup-Session: $1" -H "X-Stepup-Context: $2" "$SD/check")
}
# browse URL: follow redirects with one cookie jar through stepupd and the OP,
# never following a redirect that leaves for the return origin. Sets
# LAST_URL (the URL that gave the final answer), LAST_CODE, LAST_LOC, HOPS.
browse() {
	local url=$1 out code next
	LAST_URL='' LAST_CODE='' LAST_LOC='' HOPS=''
	for _ in $(seq 1 20); do
		out=$(curl -s -o "$T/page" -b "$T/jar" -c "$T/jar" --max-time 10 \
			-w '%{http_code} %{redirect_url}' "$url")
		code=${out%% *}
		next=${out#* }
		[ "$next" = "$out" ] && next=
		HOPS="$HOPS $code:${url%%\?*}"
		LAST_URL=$url LAST_CODE=$code LAST_LOC=$next
		case $code in 30[12378]) ;; *) return 0 ;; esac
		[ -n "$next" ] || return 0
		case $next in "$RET"/* | "$RET") return 0 ;; esac
		url=$next
	done
	return 1
}
# start_stepup session user context return_to: POST /api/v1/stepups; sets START_URL
start_stepup() {
	local body
	body=$(printf '{"session":"%s","user":"%s","context":"%s","return_to":"%s"}' "$1" "$2" "$3" "$4")
	api POST /api/v1/stepups "" "$body"
	START_URL=
	if [ "$CODE" = 201 ] && START_URL=$(json "$T/resp" 'typeof j.url === "string" && j.url'); then
		case $START_URL in
		"$SD/stepup/start?t="?*) ok "$2/$3: POST /api/v1/stepups -> 201 with a start URL on public_url"; return 0 ;;
		esac
		notok "$2/$3: POST /api/v1/stepups -> 201 with a start URL on public_url (url: $START_URL)"
		return 1
	fi
	notok "$2/$3: POST /api/v1/stepups -> 201 with a start URL on public_url (got $CODE)"
	head -c 500 "$T/resp" | diag
	return 1
}

# success: session user context expected-acr [keep-jar [provider]]
stepup_ok() {
	local sess=$1 user=$2 ctx=$3 acr=$4 ret="$RET/done/$3?x=1" prov=${6:-op}
	[ "${5:-}" = keep-jar ] || : >"$T/jar"
	check_status "$sess" "$ctx"
	check "$user/$ctx: /check before the step-up -> 401 (got $CODE)" [ "$CODE" = 401 ]
	local loc www
	loc=$(hdr X-Stepup-Location) www=$(hdr WWW-Authenticate)
	case $loc in
	"$SD/stepup/start?t="?*) ok "$user/$ctx: the 401 carries X-Stepup-Location (a start URL on public_url)" ;;
	*) notok "$user/$ctx: the 401 carries X-Stepup-Location (a start URL on public_url) (got '$loc')" ;;
	esac
	case $www in
	Bearer*'error="insufficient_user_authentication"'*) ok "$user/$ctx: the 401 carries an RFC 9470 challenge" ;;
	*) notok "$user/$ctx: the 401 carries an RFC 9470 challenge (got '$www')" ;;
	esac
	start_stepup "$sess" "$user" "$ctx" "$ret" || return 1
	browse "$START_URL"
	if [ "$LAST_CODE" = 303 ] && [ "$LAST_LOC" = "$ret" ] &&
		[ "${LAST_URL%%\?*}" = "$SD/oidc/callback" ]; then
		ok "$user/$ctx: start -> OP -> /oidc/callback answers 303 to return_to"
	else
		notok "$user/$ctx: start -> OP -> /oidc/callback answers 303 to return_to (last $LAST_CODE from ${LAST_URL%%\?*} to '$LAST_LOC'; hops:$HOPS)"
		head -c 800 "$T/page" | diag
	fi
	local cb=$LAST_URL
	check_status "$sess" "$ctx"
	check "$user/$ctx: /check with the session and context -> 200" [ "$CODE" = 200 ]
	api GET /api/v1/session "$sess"
	if [ "$CODE" = 200 ] && json "$T/resp" "j.user === '$user' && Array.isArray(j.elevations) &&
		j.elevations.some((e) => e.context === '$ctx' && e.acr === '$acr' && e.provider === '$prov'
			&& Number.isInteger(e.auth_time) && e.expires_at > Date.now() / 1000)" >/dev/null; then
		ok "$user/$ctx: /api/v1/session lists an elevation (context $ctx, acr $acr, provider $prov)"
	else
		notok "$user/$ctx: /api/v1/session lists an elevation (context $ctx, acr $acr, provider $prov) (got $CODE)"
		head -c 800 "$T/resp" | diag
	fi
	# the pending flow and the start handle are single-use
	if [ "${cb%%\?*}" = "$SD/oidc/callback" ]; then
		browse "$cb"
		check "$user/$ctx: replayed callback -> 400/403, no redirect" \
			[ "$LAST_CODE" = 400 -o "$LAST_CODE" = 403 ]
	fi
	browse "$START_URL"
	check "$user/$ctx: replayed start URL -> 4xx error page, no redirect" \
		[ "${LAST_CODE:0:1}" = 4 -a "${LAST_URL%%\?*}" = "$SD/stepup/start" ]
}

# refusal: session user context how (op|rp)
stepup_refused() {
	local sess=$1 user=$2 ctx=$3 how=$4 ret="$RET/done/$3"
	: >"$T/jar"
	start_stepup "$sess" "$user" "$ctx" "$ret" || return 1
	browse "$START_URL"
	local why="OP error passed on"
	[ "$how" = rp ] && why="stepupd refuses the OP's loa:1 answer"
	[ "$how" = alg ] && why="stepupd refuses an ES256 ID token where RS256 is configured"
	if [ "${LAST_CODE:0:1}" = 4 ] && [ "${LAST_URL%%\?*}" = "$SD/oidc/callback" ]; then
		ok "$user/$ctx: step-up ends in a 4xx error page at /oidc/callback ($why)"
	else
		notok "$user/$ctx: step-up ends in a 4xx error page at /oidc/callback ($why) (last $LAST_CODE from ${LAST_URL%%\?*} to '$LAST_LOC'; hops:$HOPS)"
	fi
	if [ "$how" = op ]; then
		check "$user/$ctx: the OP's answer was error=unmet_authentication_requirements" \
			grep -q 'error=unmet_authentication_requirements' <<<"$LAST_URL"
	fi
	check_status "$sess" "$ctx"
	check "$user/$ctx: /check stays 401 (got $CODE)" [ "$CODE" = 401 ]
	api GET /api/v1/session "$sess"
	check "$user/$ctx: /api/v1/session lists no elevation" \
		json "$T/resp" "Array.isArray(j.elevations) && j.elevations.length === 0"
}

# ---- the API refuses a missing or wrong key
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
	--data-binary "{\"session\":\"s\",\"user\":\"alice\",\"context\":\"c1\",\"return_to\":\"$RET/\"}" \
	"$SD/api/v1/stepups")
check "POST /api/v1/stepups without a key -> 401" [ "$CODE" = 401 ]

# ---- alice reaches both contexts
stepup_ok sess-1 alice c1 c1
# same browser (cookie jar, OP session) as the c1 step-up: prompt=login/max_age
# make the OP log alice in again
stepup_ok sess-2 alice loa3 urn:test:loa:3 keep-jar
check_status sess-1 loa3
check "alice: sess-1 (elevated for c1 only) is not allowed loa3 -> 401 (got $CODE)" [ "$CODE" = 401 ]

# ---- bob: the OP refuses with unmet_authentication_requirements
stepup_refused sess-bob-1 bob c1 op
stepup_refused sess-bob-2 bob loa3 op

# ---- carol: the OP answers acr urn:test:loa:1 and no acrs; stepupd must refuse
stepup_refused sess-carol-1 carol c1 rp
stepup_refused sess-carol-2 carol loa3 rp

# ---- ID token algorithm: ES256 accepted only where the provider allows it
stepup_ok sess-es-1 alice es_ok c1 new-jar es
stepup_refused sess-es-2 alice es_bad alg

# ---- stepupd stops cleanly
stop_pid "$SD_PID"
SD_PID=
check "stepupd exits 0 on SIGTERM within 10 s (status $STOP_ST)" [ "$STOP_ST" = 0 ]

echo "1..$n"
[ "$failed" -eq 0 ]
