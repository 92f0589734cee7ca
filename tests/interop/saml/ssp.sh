# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck shell=bash disable=SC2034
# ssp.sh: shell helpers (sourced, not run) that start SimpleSAMLphp 1.19
# (Debian package simplesamlphp) as a SAML 2.0 test IdP with PHP's built-in
# server on 127.0.0.1, log a user in with curl, and stop it again. Used by
# tests/interop/test_simplesamlphp.sh and tests/integration/test_saml_attacks.sh.
# The configuration is tests/interop/saml/config/ (read through
# SIMPLESAMLPHP_CONFIG_DIR); everything that varies per run (base URL, keys,
# sessions, logs) lives under the caller's temp dir. It does not check any
# SAML message: that is stepupd's job, and the tests' assertions.

SSP_HOME=${SSP_HOME:-/usr/share/simplesamlphp}
SSP_CONFIG=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/config
SSP_TOOL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/samltool.py
SSP_PID=

# ssp_missing: prints what is missing to run SimpleSAMLphp (nothing when ready)
ssp_missing() {
	command -v php >/dev/null || echo "php (php8.2-cli)"
	command -v setsid >/dev/null || echo "setsid (util-linux)"
	command -v openssl >/dev/null || echo "openssl"
	[ -f "$SSP_HOME/www/_include.php" ] || echo "simplesamlphp"
	if command -v php >/dev/null; then
		php -m 2>/dev/null | grep -qx dom || echo "php8.2-xml"
		php -m 2>/dev/null | grep -qx mbstring || echo "php8.2-mbstring"
	fi
}

# ssp_start DIR PORT: makes a throwaway IdP key and certificate in DIR/work,
# starts `php -S` in a new session (so ssp_stop can stop its whole process
# group), waits until the IdP metadata answers and saves it as
# DIR/idp-metadata.xml. Sets SSP (base URL), SSP_ENTITY, SSP_WORK_DIR, SSP_PID.
ssp_start() {
	local dir=$1 port=$2
	mkdir -p "$dir/work/log" "$dir/work/data" "$dir/work/tmp" "$dir/work/sessions" "$dir/docroot"
	ln -sfn "$SSP_HOME/www" "$dir/docroot/simplesaml"
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=stepupd-test-idp" \
		-keyout "$dir/work/idp.key" -out "$dir/work/idp.crt" 2>/dev/null || return 1
	SSP=http://127.0.0.1:$port/simplesaml
	SSP_WORK_DIR=$dir/work
	SSP_ENTITY=$SSP/saml2/idp/metadata.php
	env -u PHP_CLI_SERVER_WORKERS SSP_WORK="$dir/work" SSP_BASEURL="$SSP/" \
		SSP_ENTITY_ID="$SSP_ENTITY" SSP_SALT="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
		SIMPLESAMLPHP_CONFIG_DIR="$SSP_CONFIG" setsid php -S "127.0.0.1:$port" -t "$dir/docroot" >"$dir/php.log" 2>&1 </dev/null &
	SSP_PID=$!
	for _ in $(seq 1 100); do
		if curl -s -f -o "$dir/idp-metadata.xml" --max-time 2 "$SSP_ENTITY"; then
			grep -q 'IDPSSODescriptor' "$dir/idp-metadata.xml" && return 0
		fi
		kill -0 "$SSP_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ssp_set_sp JSON: the SP the IdP serves (written by `samltool.py spmeta`)
ssp_set_sp() { cp "$1" "$SSP_WORK_DIR/sp-remote.json"; }

# ssp_stop: TERM to php's process group, then KILL after 5 s
ssp_stop() {
	local pid=$SSP_PID
	SSP_PID=
	[ -n "$pid" ] || return 0
	# setsid made php the leader of its own group when it could; else stop the pid only
	if [ "$(awk '{print $5}' "/proc/$pid/stat" 2>/dev/null)" = "$pid" ]; then
		kill -TERM -- "-$pid" 2>/dev/null
	else
		kill -TERM "$pid" 2>/dev/null
	fi
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# ssp_login JAR SSO_URL USER PASSWORD PAGE: what a browser does at the IdP:
# GET the SSO URL (SAMLRequest from stepupd), follow it to the
# exampleauth:UserPass login form, post USER/PASSWORD, save the answer (the
# auto-POST form back to stepupd, or an error page) in PAGE. Returns 1 and
# sets SSP_ERR when a step does not go as a browser would expect.
ssp_login() {
	local jar=$1 url=$2 user=$3 pass=$4 page=$5 out code loc state
	SSP_ERR=
	out=$(curl -s -b "$jar" -c "$jar" -o "$page" --max-time 20 -w '%{http_code} %{redirect_url}' "$url")
	code=${out%% *} loc=${out#* }
	if [ "$code" != 302 ] || [ -z "$loc" ]; then
		SSP_ERR="SSO URL answered $code, not a redirect to the login form"
		return 1
	fi
	state=$(python3 "$SSP_TOOL" param "$loc" AuthState 2>/dev/null) || {
		SSP_ERR="no AuthState in $loc"
		return 1
	}
	code=$(curl -s -b "$jar" -c "$jar" -o "$page" --max-time 20 -w '%{http_code}' "$loc")
	if [ "$code" != 200 ] || ! grep -q 'name="password"' "$page"; then
		SSP_ERR="login form answered $code without a password field"
		return 1
	fi
	code=$(curl -s -b "$jar" -c "$jar" -o "$page" --max-time 20 -w '%{http_code}' \
		--data-urlencode "AuthState=$state" --data-urlencode "username=$user" \
		--data-urlencode "password=$pass" "${loc%%\?*}")
	if [ "$code" != 200 ]; then
		SSP_ERR="posting the login form answered $code"
		return 1
	fi
	return 0
}
