#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# render.sh PREFIX: writes PREFIX/nginx.conf from tests/nginx/nginx.conf.in
# and makes PREFIX/tmp for nginx's temporary files. The values come from the
# environment:
#   STEPUPD      host:port of stepupd (required)
#   HTTP_LISTEN  plain http listener, e.g. 127.0.0.1:8088 (required)
#   TLS_LISTEN   https (mutual TLS) listener, e.g. 127.0.0.1:8443 (required)
#   CERTS        directory made by certs/make-test-certs.sh (required)
#   APP          X-App value (default "files")
#   CONTEXT_MAP  lines for the "label|tags" -> context map (default none:
#                stepupd's policies decide)
# It only writes files; it starts nothing.
set -eu
PREFIX=$1
HERE=$(cd "$(dirname "$0")" && pwd)
: "${STEPUPD:?}" "${HTTP_LISTEN:?}" "${TLS_LISTEN:?}" "${CERTS:?}"
APP=${APP:-files}
CONTEXT_MAP=${CONTEXT_MAP:-}
# APP goes inside a quoted nginx string: letters, digits, space and ._- only
case $APP in
'' | *[!A-Za-z0-9\ ._-]*) echo "render.sh: APP '$APP' has characters nginx would misread" >&2; exit 1 ;;
esac
# workers run as the user who starts nginx (as root nginx would switch to
# "nobody", who cannot read a private temporary directory)
USER_LINE="user $(id -un) $(id -gn);"
[ "$(id -u)" = 0 ] || USER_LINE="# (not root: workers run as $(id -un))"
mkdir -p "$PREFIX/tmp"
export USER_LINE PREFIX STEPUPD HTTP_LISTEN TLS_LISTEN CERTS APP CONTEXT_MAP
WWW=$HERE/www NGINX_DIR=$HERE python3 - "$HERE/nginx.conf.in" "$PREFIX/nginx.conf" <<'PY'
import os, re, sys
names = "USER_LINE PREFIX STEPUPD HTTP_LISTEN TLS_LISTEN CERTS WWW NGINX_DIR APP CONTEXT_MAP"
s = open(sys.argv[1]).read()
for k in names.split():
    s = s.replace("@" + k + "@", os.environ[k])
left = re.findall(r"@[A-Z_]+@", s)
if left:
    sys.exit("render.sh: not replaced: " + " ".join(left))
open(sys.argv[2], "w").write(s)
PY
