#!/usr/bin/env bash
# `dcmetrics check` on SNMP entries: an unknown profile, a profile file with an error, a
# missing profile file and a bad inline OID fail with file:line:column before anything
# runs; a profile file named relative to the configuration is found from any directory;
# `dcmetrics profiles FILE` and `probe snmp --profile FILE` read the same files. No device
# is needed.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/conf/profiles" "$work/elsewhere"

cat >"$work/conf/profiles/in-house.yaml" <<'YAML'
name: in-house-pdu
description: A PDU model of the site's own
points:
  - {name: power, oid: .1.3.6.1.4.1.99999.4.0, unit: W, scale: 0.1}
YAML
cat >"$work/conf/profiles/bad.yaml" <<'YAML'
name: broken
description: an OID with a letter
points:
  - {name: volts, oid: .1.3.6.1.4.1.99999.3.x, unit: V}
YAML

# check CONFIG_TEXT: runs `dcmetrics check -c conf/site.yaml` from $work/elsewhere (so a
# relative profile path only resolves against the configuration's directory); sets rc
# and out (stdout and stderr).
check() {
    printf '%s\n' "agent: {site: t, interval: 1s}" "collectors:" "$1" "site: {timezone: UTC}" \
        >"$work/conf/site.yaml"
    rc=0
    out=$(cd "$work/elsewhere" && "$DCMETRICS" check -c ../conf/site.yaml 2>&1) || rc=$?
}
expect_error() { # WHAT PATTERN
    if [ "$rc" -eq 0 ] || ! grep -qF -- "$2" <<<"$out"; then
        echo "FAIL: $1: exit $rc, expected '$2' in:"; echo "$out"; exit 1
    fi
    echo "ok: $1"
}

check '  - {name: a, type: snmp, host: 127.0.0.1, profile: profiles/in-house.yaml}'
[ "$rc" -eq 0 ] && grep -q "configuration OK" <<<"$out" ||
    { echo "FAIL: a valid profile file: exit $rc"; echo "$out"; exit 1; }
echo "ok: relative profile file found from another directory"

check '  - {name: a, type: snmp, host: 127.0.0.1, profile: apc-rpdu3}'
expect_error "unknown profile" \
    "../conf/site.yaml:3:53: error: collectors[0].profile: unknown profile 'apc-rpdu3', did you mean 'apc-rpdu2'?"

check '  - {name: a, type: snmp, host: 127.0.0.1, profile: profiles/bad.yaml}'
expect_error "invalid profile file" \
    "../conf/profiles/bad.yaml:4:24: error: points[0].oid: expected a numeric OID"

check '  - {name: a, type: snmp, host: 127.0.0.1, profile: profiles/gone.yaml}'
expect_error "missing profile file" \
    "../conf/site.yaml:3:53: error: collectors[0].profile: cannot read profile file ../conf/profiles/gone.yaml: No such file or directory"

check '  - {name: a, type: snmp, host: 127.0.0.1, points: [{name: x, oid: "1.3.x", unit: W}]}'
expect_error "inline OID" "../conf/site.yaml:3:68: error: collectors[0].points[0].oid"

out=$("$DCMETRICS" profiles "$work/conf/profiles/in-house.yaml")
grep -Eq '^  power +\.1\.3\.6\.1\.4\.1\.99999\.4\.0 +x0\.1 ' <<<"$out" ||
    { echo "FAIL: profiles FILE:"; echo "$out"; exit 1; }
echo "ok: profiles FILE"
rc=0
out=$("$DCMETRICS" probe snmp 127.0.0.1:1 --profile "$work/conf/profiles/gone.yaml" 2>&1) || rc=$?
[ "$rc" -eq 2 ] && grep -qF "gone.yaml: error: --profile: cannot read: No such file" <<<"$out" ||
    { echo "FAIL: probe --profile missing file: exit $rc"; echo "$out"; exit 1; }
echo "ok: probe --profile FILE refuses a missing file"
echo "PASS"
