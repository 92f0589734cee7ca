#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# make-test-certs.sh DIR [SET...]: makes throwaway keys and certificates for
# the tests and the demo into DIR with openssl. They are for loopback tests
# only: the keys are unencrypted, the CA is trusted by nothing but the nginx
# configs the tests write, and nothing here is ever a production key.
#
# Sets (default: tls):
#   tls   ca.key ca.crt                 a test CA ("stepupd test CA")
#         server.key server.crt         a server certificate for 127.0.0.1 and
#                                       localhost, issued by the CA
#         client.key client.crt         a client certificate (a "managed
#                                       device") issued by the CA, for mTLS
#         rogue-ca.key rogue-ca.crt     a second CA nobody trusts, and
#         rogue.key rogue.crt           a client certificate issued by it
#                                       (a device that only claims to be managed)
#   saml  sp.key sp.crt                 stepupd's SAML SP signing key (RSA-2048,
#                                       self-signed: SAML trusts keys through
#                                       metadata, not through a CA)
#         idp.key idp.crt               the mock SAML IdP's signing key
#         evil-idp.key evil-idp.crt     a key no metadata names (the mock's
#                                       other_key fault signs with it)
# Files that already exist are kept, so a demo keeps its certificates across
# runs. SAML metadata is not made here: stepupd serves its own
# (/saml/metadata) and the mock IdP writes its own (--metadata-out).
set -eu

die() { echo "make-test-certs.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: make-test-certs.sh DIR [tls] [saml]"
DIR=$1
shift
[ $# -ge 1 ] || set -- tls
mkdir -p "$DIR"
cd "$DIR"
umask 077

# ca NAME SUBJECT: a self-signed CA certificate valid for 30 days
ca() {
	[ -f "$1.crt" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
		-subj "/CN=$2" -keyout "$1.key" -out "$1.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null
}

# selfsigned NAME SUBJECT: an RSA-2048 key and a self-signed certificate
# valid for 30 days (what SAML metadata carries)
selfsigned() {
	[ -f "$1.crt" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=$2" \
		-keyout "$1.key" -out "$1.crt" 2>/dev/null
}

# leaf NAME CA SUBJECT EXTFILE-LINES: a certificate for a new key, issued by CA
leaf() {
	local name=$1 issuer=$2 subj=$3 ext=$4
	[ -f "$name.crt" ] && return 0
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
		-subj "/CN=$subj" -keyout "$name.key" -out "$name.csr" 2>/dev/null
	printf '%b\n' "$ext" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" -CAcreateserial \
		-sha256 -days 30 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

for set in "$@"; do
	case $set in
	tls)
		ca ca "stepupd test CA"
		leaf server ca 127.0.0.1 \
			"basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost"
		leaf client ca "managed-device-1" \
			"basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth"
		ca rogue-ca "rogue CA"
		leaf rogue rogue-ca "managed-device-1" \
			"basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth"
		;;
	saml)
		selfsigned sp "stepupd test SAML SP"
		selfsigned idp "stepupd mock SAML IdP"
		selfsigned evil-idp "stepupd mock SAML IdP"
		;;
	*) die "unknown set '$set' (known: tls saml)" ;;
	esac
done
# the certificates are public; the keys stay 0600
chmod 644 ./*.crt
