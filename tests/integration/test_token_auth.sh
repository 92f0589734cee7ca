#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Client authentication at the token endpoint: client_secret_basic (the
# other tests), client_secret_post and private_key_jwt each complete a
# step-up; a wrong secret or a key the OP does not know elevates nothing.
. "$(dirname "$0")/lib.sh"

restart_with() { # description: uses TOKEN_AUTH, CLIENT_SECRET, PROVIDER_EXTRA, MOCK_ARGS
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	PIDS=()
	rm -rf "$TMP/var"
	setup
}

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/client.key" 2>/dev/null
openssl pkey -in "$TMP/client.key" -pubout -out "$TMP/client.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/other.key" 2>/dev/null
chmod 600 "$TMP/client.key" "$TMP/other.key"

run_case() { # description expected-callback-status
	browse "$TMP/jar-$RANDOM" "$(start_url "sess-$3" alice c1)"
	is "$1: callback $2" "$HOP_CODE" "$2"
	if [ "$2" = 303 ]; then
		is "$1: check 200" "$(check_status "sess-$3" c1)" 200
	else
		is "$1: check 401" "$(check_status "sess-$3" c1)" 401
		is "$1: nothing stored" "$(elevations "sess-$3")" 0
	fi
}

TOKEN_AUTH=client_secret_post restart_with
run_case "client_secret_post" 303 post

TOKEN_AUTH=client_secret_basic CLIENT_SECRET=wrong-secret restart_with
run_case "client_secret_basic with a wrong secret" 400 wrongsecret
has "the page says the token exchange failed" "$HOP_BODY" "token exchange"

MOCK_ARGS="--client-jwk $TMP/client.pub" TOKEN_AUTH=private_key_jwt \
	PROVIDER_EXTRA="private_key_file = $TMP/client.key
private_key_kid = client-1" restart_with
run_case "private_key_jwt" 303 pkjwt

MOCK_ARGS="--client-jwk $TMP/client.pub" TOKEN_AUTH=private_key_jwt \
	PROVIDER_EXTRA="private_key_file = $TMP/other.key" restart_with
run_case "private_key_jwt signed with a key the OP does not know" 400 pkjwt-bad

done_testing
