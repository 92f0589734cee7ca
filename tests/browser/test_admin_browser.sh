#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The admin console in a real browser: Debian's headless Chromium, driven by
# playwright-core (tests/browser/admin.mjs), against stepupd and the mock OP
# started on loopback with the integration tests' throwaway configuration
# (tests/integration/lib.sh setup). Prints TAP lines. An admin account is
# made with `stepupd admin passwd`; the script then signs in, creates a
# policy, triggers it through /check, reads the report, revokes a session,
# and checks that an injected <script> does not run and that a form post
# without the CSRF token is refused. Screenshots of each main page go to
# $BUILD/test-artifacts/admin/*.png.
#
# Needs: chromium (Debian package, /usr/bin/chromium), node >= 20 and
# tests/browser/node_modules (installed here with `npm ci` from the committed
# lock file when missing; `npx playwright install` is never used).
#
#   BUILD=build bash tests/browser/test_admin_browser.sh
#   CHROMIUM=/path/to/chromium  another browser binary
#   KEEP_TMP=1                  keep the temp dir (config, logs, database)
#
# It does not test the console's layout: it looks for the elements a
# person uses (forms, buttons, table rows) by their names and text.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$HERE/../integration/lib.sh"
cd "$ROOT" || exit 1

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SHOTS=$ROOT/$BUILD/test-artifacts/admin
ADMIN_USER='admin'
ADMIN_PASSWORD='browser-test-pw-4711!'

bail() { notok "$*"; done_testing; exit 1; }

# keep_tmp() is lib.sh's cleanup without removing $TMP (KEEP_TMP=1)
keep_tmp() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	echo "# kept $TMP"
}
[ -n "${KEEP_TMP:-}" ] && trap keep_tmp EXIT

# ---- prerequisites
[ -x "$CHROMIUM" ] || bail "chromium is installed ($CHROMIUM; make deps installs Debian's chromium)"
command -v node >/dev/null || bail "node is installed"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
	bail "node >= 20 (found $(node --version))"
[ -x "$ROOT/$BUILD/stepupd" ] || bail "stepupd is built ($BUILD/stepupd)"
[ -x "$ROOT/$BUILD/mock_op" ] || bail "mock_op is built ($BUILD/mock_op)"
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
	(cd "$HERE" && npm ci --no-audit --no-fund --silent) >"$TMP/npm.log" 2>&1 ||
		{ sed 's/^/# /' "$TMP/npm.log"; bail "npm ci in tests/browser"; }
fi
ok "prerequisites: chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}'), node $(node --version), playwright-core"

# ---- stepupd, the mock OP, an admin account
setup
printf '%s\n' "$ADMIN_PASSWORD" |
	"$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf" admin passwd "$ADMIN_USER" >"$TMP/passwd.log" 2>&1
st=$?
is "stepupd admin passwd $ADMIN_USER (password on stdin) exits 0" "$st" 0
[ "$st" -eq 0 ] || { sed 's/^/# /' "$TMP/passwd.log"; bail "cannot go on without an admin account"; }

# ---- the browser test proper; it numbers its TAP lines after ours. Its
# temporary files (the browser profile) go under $TMP, removed at exit
# even when node is killed.
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
SU=$SU MOCK=$MOCK API_KEY=$API_KEY ADMIN_USER=$ADMIN_USER ADMIN_PASSWORD=$ADMIN_PASSWORD \
	SHOTS=$SHOTS CHROMIUM=$CHROMIUM TAP_START=$T_N TAP_COUNT_FILE=$TMP/tap.count \
	TMPDIR=$TMP node "$HERE/admin.mjs"
st=$?
if [ -s "$TMP/tap.count" ]; then
	read -r n f <"$TMP/tap.count"
	T_N=$n
	T_FAILED=$((T_FAILED + f))
fi
is "the browser test ran to its end (exit status)" "$st" 0

# ---- after the browser: what the database says
is "no admin session survives sign-out" \
	"$(db_count "SELECT count(*) FROM admin_sessions WHERE user = '$ADMIN_USER' AND expires_at > strftime('%s','now')")" 0
shots=$(find "$SHOTS" -name '*.png' -size +2k | wc -l)
check "screenshots saved in $BUILD/test-artifacts/admin ($shots)" [ "$shots" -ge 6 ]
# stop stepupd here, so that a sanitizer report at exit is seen
kill -TERM "$STEPUPD_PID" 2>/dev/null
wait "$STEPUPD_PID"
is "stepupd stops cleanly on SIGTERM (exit status)" "$?" 0
hasnt "stepupd logged no sanitizer report" "$(cat "$TMP/stepupd.log")" "Sanitizer"
hasnt "stepupd logged no runtime error" "$(cat "$TMP/stepupd.log")" "runtime error"
if [ "$T_FAILED" -ne 0 ]; then
	echo "# --- last lines of stepupd.log"
	tail -30 "$TMP/stepupd.log" | sed 's/^/# /'
fi

done_testing
