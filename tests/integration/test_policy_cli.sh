#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `stepupd policy import FILE` and `stepupd policy export` (SPEC 4): the
# examples import, export -> import -> export is identical, and every kind
# of bad file is refused with "FILE: policy N ("name"): field: message",
# exit status 1, and the policies and their version left exactly as they
# were. Needs no server and no IdP: the CLI works on the database directly.
. "$(dirname "$0")/lib.sh"
STEPUPD_PORT=$(free_port)
MOCK=http://127.0.0.1:9 # never contacted
write_conf
SUD=("$ROOT/$BUILD/stepupd" -c "$TMP/stepupd.conf")
DB=$TMP/var/stepupd.db

# run_cli ARGS...: sets CLI_RC, CLI_OUT, CLI_ERR
run_cli() {
	"${SUD[@]}" "$@" >"$TMP/cli.out" 2>"$TMP/cli.err"
	CLI_RC=$?
	CLI_OUT=$(cat "$TMP/cli.out")
	CLI_ERR=$(cat "$TMP/cli.err")
}

run_cli policy export
is "export of an empty database: exit 0" "$CLI_RC" 0
is "export of an empty database: no policies" "$(echo "$CLI_OUT" | tr -d ' \n')" '{"policies":[]}'

run_cli policy import "$ROOT/examples/policies/block.json"
is "import examples/policies/block.json: exit 0" "$CLI_RC" 0
has "import says how many" "$CLI_OUT" "5 policies imported"
is "5 rows" "$(db_count 'SELECT count(*) FROM policies')" 5
V1=$(db_count 'SELECT version FROM policy_version')
is "version 1 after the first import" "$V1" 1

"${SUD[@]}" policy export >"$TMP/e1.json" 2>/dev/null
run_cli policy import "$TMP/e1.json"
is "re-import of the export: exit 0" "$CLI_RC" 0
"${SUD[@]}" policy export >"$TMP/e2.json" 2>/dev/null
check "export -> import -> export is identical" cmp -s "$TMP/e1.json" "$TMP/e2.json"
check "export is valid JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/e1.json"
IDS1=$(db_count 'SELECT group_concat(id) FROM policies ORDER BY position')
V2=$(db_count 'SELECT version FROM policy_version')
is "re-import bumps the version" "$V2" 2

# bad FILE NAME EXPECTED-STDERR-SUBSTRING: the file is refused and nothing changes
bad() {
	local name=$1 want=$2 f=$TMP/bad-$1.json
	cat >"$f"
	run_cli policy import "$f"
	is "$name: exit 1" "$CLI_RC" 1
	has "$name: error names file, policy and field" "$CLI_ERR" "$f: $want"
	has "$name: says nothing changed" "$CLI_ERR" "nothing imported"
	"${SUD[@]}" policy export >"$TMP/after.json" 2>/dev/null
	check "$name: old set intact" cmp -s "$TMP/e1.json" "$TMP/after.json"
	is "$name: version unchanged" "$(db_count 'SELECT version FROM policy_version')" "$V2"
	is "$name: ids unchanged" "$(db_count 'SELECT group_concat(id) FROM policies ORDER BY position')" "$IDS1"
}

bad not-json 'line 1, column' <<'J'
this is not JSON
J
bad unknown-field 'policy 1 ("u"): policy: unknown member "colour"' <<'J'
{"policies":[{"name":"u","severity":"high","colour":"red","action":{"type":"block"}}]}
J
bad bad-cidr 'policy 2 ("net"): activity_filters.ip_ranges.values[1]: is not an IPv4 or IPv6' <<'J'
{"policies":[
 {"name":"ok","severity":"low","action":{"type":"allow"}},
 {"name":"net","severity":"high","action":{"type":"block"},
  "activity_filters":{"ip_ranges":{"op":"not_in","values":["10.0.0.0/8","10.0.0.0/40"]}}}]}
J
bad unknown-context 'policy 1 ("s"): action.context: no [context "c9"] in the configuration' <<'J'
{"policies":[{"name":"s","severity":"high","action":{"type":"step_up","context":"c9"}}]}
J
bad duplicate-name 'policy 2 ("Dup"): name: duplicates' <<'J'
{"policies":[{"name":"dup","severity":"high","action":{"type":"block"}},
             {"name":"Dup","severity":"low","action":{"type":"allow"}}]}
J
bad duplicate-member 'line 1, column 31: not valid JSON: duplicate object key' <<'J'
{"policies":[{"name":"a","name":"b","severity":"high","action":{"type":"block"}}]}
J
bad empty-list 'policy 1 ("e"): file_filters.labels.values: must not be empty' <<'J'
{"policies":[{"name":"e","severity":"high","action":{"type":"block"},
  "file_filters":{"labels":{"op":"in","values":[]}}}]}
J

run_cli policy import "$TMP/no-such-file.json"
is "missing file: exit 1" "$CLI_RC" 1
has "missing file: says so" "$CLI_ERR" "no-such-file.json"
run_cli policy
is "policy without a subcommand: usage, exit 2" "$CLI_RC" 2
run_cli policy import
is "import without a file: usage, exit 2" "$CLI_RC" 2

# the seed tutorial's policy, and its file is already in export form
run_cli policy import "$ROOT/examples/policies/seed.json"
is "import examples/policies/seed.json: exit 0" "$CLI_RC" 0
has "one policy" "$CLI_OUT" "1 policy imported"
"${SUD[@]}" policy export >"$TMP/seed-export.json" 2>/dev/null
check "seed.json is exactly what export writes" cmp -s "$ROOT/examples/policies/seed.json" "$TMP/seed-export.json"
is "import replaced the whole set" "$(db_count 'SELECT count(*) FROM policies')" 1
is "the seed policy kept its id (same name)" \
	"$(db_count "SELECT id FROM policies")" "$(echo "$IDS1" | cut -d, -f1)"

done_testing
