#!/usr/bin/env bash
# Installs, from Debian 12's own packages, everything dcmetrics needs to build, to run its
# demo and to run every test. Idempotent; run as root (or with sudo available).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries the agent links
  libyaml-dev libsqlite3-dev libcmocka-dev libmodbus-dev libsnmp-dev libpaho-mqtt-dev
  libcurl4-openssl-dev zlib1g-dev libmicrohttpd-dev
  # gnutls: the HTTP server's TLS certificate check and the SHA-256 of its credentials
  libgnutls28-dev
  # time zone data for site calendars
  tzdata
  # tools the tests use
  python3 sqlite3 procps psmisc
  # an independent Modbus server (pymodbus needs the serial modules named explicitly) and
  # a pseudo-terminal pair for the RTU test
  python3-pymodbus python3-serial python3-serial-asyncio socat
  # real servers the integration tests start on loopback ports: SNMP agents, an MQTT
  # broker, InfluxDB 1.x, VictoriaMetrics (InfluxDB v2 write API), Prometheus (and promtool);
  # openssl makes the test CA and certificates, curl is the HTTP client of the API tests
  snmpd snmp mosquitto mosquitto-clients influxdb influxdb-client victoria-metrics prometheus
  openssl curl
  # the report's HTML printed to PDF and PNG by headless Chromium, and the PDF read back
  chromium poppler-utils fonts-dejavu-core
  # the Grafana dashboard test reads the provisioning files (YAML)
  python3-yaml
  # the MQTT tests' recording subscriber, and the JSON Schema check of every payload
  python3-paho-mqtt python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # The server packages (snmpd, mosquitto, influxdb, prometheus...) would otherwise start
  # system-wide daemons on their default ports; the tests start their own on free loopback
  # ports. A policy-rc.d that refuses service starts is in place only during the install,
  # and only when the machine has none of its own.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=true
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if $own_policy; then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
fi
