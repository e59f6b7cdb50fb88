#!/usr/bin/env bash
# `dcmetrics check`: every shipped example validates; broken configurations exit 2 and name
# the file, line, column and key; usage errors exit 2; secrets never appear in the output.
set -euo pipefail

: "${DCMETRICS:?path to the dcmetrics binary}"
: "${DCM_SOURCE_DIR:?source tree}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run_check NAME ARGS...: runs check, keeps stdout/stderr in $tmp/NAME.{out,err}, sets rc.
run_check() {
    local name=$1
    shift
    set +e
    "$DCMETRICS" check "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    set -e
}

# expect_bad NAME YAML WANT...: the config must fail with exit 2 and stderr must contain
# every WANT line (fixed strings; $F stands for the file's path).
expect_bad() {
    local name=$1 yaml=$2
    shift 2
    local file="$tmp/$name.yaml"
    printf '%s' "$yaml" >"$file"
    run_check "$name" -c "$file"
    [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2"
    local want
    for want in "$@"; do
        want=${want//\$F/$file}
        grep -qF -- "$want" "$tmp/$name.err" || {
            fail "$name: stderr lacks: $want"
            sed 's/^/    /' "$tmp/$name.err" >&2
        }
    done
}

# --- every example validates
shopt -s nullglob
examples=("$DCM_SOURCE_DIR"/examples/*.yaml)
[ "${#examples[@]}" -ge 2 ] || fail "expected at least two examples, found ${#examples[@]}"
for f in "${examples[@]}"; do
    name=example-$(basename "$f" .yaml)
    run_check "$name" -c "$f"
    if [ "$rc" -ne 0 ]; then
        fail "$f: exit $rc"
        sed 's/^/    /' "$tmp/$name.err" >&2
        continue
    fi
    grep -qF "$f: configuration OK" "$tmp/$name.out" || fail "$f: no summary"
    grep -qE '^  collectors: +[1-9]' "$tmp/$name.out" || fail "$f: summary lacks collectors"
    grep -q ': error:' "$tmp/$name.err" && fail "$f: errors printed for a valid config"
done

# The complete example maps every role and declares every output.
run_check site -c "$DCM_SOURCE_DIR/examples/site.yaml"
grep -qF 'roles mapped: 14 of 14' "$tmp/site.out" || fail "site.yaml: not every role mapped"
grep -qF 'zones:        2 - hall-a, hall-b' "$tmp/site.out" || fail "site.yaml: zones"
grep -qF 'instruments:  3 (certificates 4250000 kWh, PPAs 1500000 kWh)' "$tmp/site.out" ||
    fail "site.yaml: instruments"
grep -qF 'regimes:      3 - eu, enefg, taiwan' "$tmp/site.out" || fail "site.yaml: regimes"
grep -qF 'outputs:      3 - mqtt, influxdb, http' "$tmp/site.out" || fail "site.yaml: outputs"

# --quiet prints nothing for a valid config.
run_check quiet -c "$DCM_SOURCE_DIR/examples/minimal.yaml" --quiet
[ "$rc" -eq 0 ] || fail "quiet: exit $rc"
[ ! -s "$tmp/quiet.out" ] || fail "quiet: printed a summary"

# --- broken configurations: file:line:column: error: path: message
expect_bad unknown-key $'agent:\n  site: x\n  intervall: 2s\n' \
    "\$F:3:3: error: agent: unknown key 'intervall', did you mean 'interval'?"

expect_bad wrong-type $'collectors:\n  - name: facility\n    type: sim\n    seed: abc\n' \
    "\$F:4:11: error: collectors[0].seed: expected an integer, got 'abc'"

expect_bad bad-duration $'agent:\n  interval: 5 seconds\n' \
    "\$F:2:13: error: agent.interval: expected a duration like 500ms, 1s, 15m, got '5 seconds'"

expect_bad missing-required $'collectors:\n  - type: sim\n' \
    "\$F:2:5: error: collectors[0]: missing required key 'name'"

expect_bad duplicates $'collectors:\n  - {name: a, type: sim}\n  - {name: a, type: sim}\nsite:\n  name: x\n  name: y\n' \
    "\$F:3:12: error: collectors[1].name: duplicate collector name 'a'" \
    "\$F:6:3: error: duplicate key 'name' (first given at line 5, column 3)"

expect_bad unknown-type $'collectors:\n  - {name: a, type: smi}\n' \
    "\$F:2:21: error: collectors[0].type: unknown collector type 'smi', did you mean 'sim'? (compiled-in types: sim"

expect_bad site-errors $'site:\n  timezone: Europe/Berln\n  roles:\n    grdi: [a.b]\n  carbon:\n    location_factor: 494\n' \
    "\$F:2:13: error: site.timezone: unknown time zone 'Europe/Berln'" \
    "\$F:4:5: error: site.roles: unknown role 'grdi', did you mean 'grid'?" \
    "\$F:6:22: error: site.carbon.location_factor: expected kgCO2e/kWh from 0 to below 5, got 494"

expect_bad syntax $'agent:\n  site: a\n  interval: [1s\nsite: {}\n' \
    "\$F:4:5: error: invalid YAML:"

expect_bad alias $'base: &b {site: x}\nagent: *b\n' \
    "\$F:2:8: error: aliases (*b) are not supported"

# All errors of a file are reported in one run, in file order.
expect_bad many $'agent:\n  log_level: loud\ncollectors:\n  - {name: a, type: sim, sed: 1}\nsite:\n  pue_category: 5\n' \
    "\$F:2:14: error: agent.log_level: expected error, warn, info or debug, got 'loud'" \
    "\$F:4:26: error: collectors[0]: unknown key 'sed', did you mean 'seed'?" \
    "\$F:6:17: error: site.pue_category: expected 1, 2 or 3"
grep -qF "invalid configuration: 3 errors" "$tmp/many.err" || fail "many: no error count"
awk -F: '/: error: /{print $2}' "$tmp/many.err" | sort -n -c || fail "many: not in file order"

# --- unreadable file, bad usage
run_check missing -c "$tmp/does-not-exist.yaml"
[ "$rc" -eq 2 ] || fail "missing file: exit $rc"
grep -qF "$tmp/does-not-exist.yaml: error: cannot open: No such file or directory" \
    "$tmp/missing.err" || fail "missing file: no reason given"
run_check directory -c "$tmp"
[ "$rc" -eq 2 ] || fail "directory: exit $rc"
run_check nofile
[ "$rc" -eq 2 ] || fail "no -c: exit $rc"
grep -qF "usage: dcmetrics check" "$tmp/nofile.err" || fail "no -c: no usage"
run_check badopt -c "$DCM_SOURCE_DIR/examples/minimal.yaml" --frobnicate
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc"

# --- --explain lists the key tables of the compiled-in collectors
run_check explain --explain
[ "$rc" -eq 0 ] || fail "explain: exit $rc"
grep -qE '^  timeout +duration +optional' "$tmp/explain.out" || fail "explain: no common keys"
run_check explain-sim --explain sim
[ "$rc" -eq 0 ] || fail "explain sim: exit $rc"
grep -q '^sim: ' "$tmp/explain-sim.out" || fail "explain sim: no sim section"
run_check explain-typo --explain smi
[ "$rc" -eq 2 ] || fail "explain smi: exit $rc"
grep -qF "did you mean 'sim'?" "$tmp/explain-typo.err" || fail "explain smi: no suggestion"

# --- warnings do not fail the check
printf 'collectors:\n  - {name: facility, type: sim}\nsite:\n  roles:\n    it: [pdu-*.energy]\n' \
    >"$tmp/warn.yaml"
run_check warn -c "$tmp/warn.yaml"
[ "$rc" -eq 0 ] || fail "warn: exit $rc"
grep -qF "$tmp/warn.yaml:5:9: warning: site.roles.it: no selector can match" "$tmp/warn.err" ||
    fail "warn: no warning for a selector that matches no collector"

# --- secrets never leak, whatever else is wrong
secret=Zq7-not-for-logs-41
printf '%s\n' "$secret" >"$tmp/pw"
cat >"$tmp/secret.yaml" <<EOF
agent: {site: 'bad site'}
outputs:
  mqtt: {url: 'tcp://127.0.0.1:1883', password: $secret, password_file: $tmp/pw}
  influxdb: {url: 'http://127.0.0.1:8086', database: d, password: [$secret]}
  http: {listen: ':8080', tls_cert: c.pem}
EOF
run_check secret -c "$tmp/secret.yaml"
[ "$rc" -eq 2 ] || fail "secret: exit $rc"
grep -qF "give only one of password, password_file and password_env" "$tmp/secret.err" ||
    fail "secret: conflict not reported"
if grep -qF "$secret" "$tmp/secret.err" "$tmp/secret.out"; then
    fail "secret: the secret appears in the output"
fi
cat >"$tmp/secret-ok.yaml" <<EOF
outputs:
  mqtt: {url: 'tcp://127.0.0.1:1883', password_file: $tmp/pw}
  influxdb: {url: 'http://127.0.0.1:8086', bucket: b, org: o, token_env: DCM_CHECK_TEST_TOKEN}
EOF
DCM_CHECK_TEST_TOKEN=$secret run_check secret-ok -c "$tmp/secret-ok.yaml"
[ "$rc" -eq 0 ] || fail "secret-ok: exit $rc"
[ ! -s "$tmp/secret-ok.err" ] || fail "secret-ok: unexpected diagnostics"
if grep -qF "$secret" "$tmp/secret-ok.err" "$tmp/secret-ok.out"; then
    fail "secret-ok: the secret appears in the output"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "test_check: all checks passed"
