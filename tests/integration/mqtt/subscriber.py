"""An MQTT subscriber for the tests: records every message it gets as a JSON line
{"topic", "payload", "retain", "t", "props"} (t: arrival, Unix seconds; props: MQTT 5
properties) in OUT, flushed per message. Reconnects by itself; with --session NAME it uses
a persistent session (clean session off, QoS 1) so that messages published while it was
away are queued for it by the broker. Writes OUT.ready once its subscription is granted."""
import argparse
import json
import ssl
import sys
import time

import paho.mqtt.client as mqtt

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--topic", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--session", help="client id of a persistent session")
ap.add_argument("--v5", action="store_true")
ap.add_argument("--ca")
ap.add_argument("--user")
ap.add_argument("--password")
ap.add_argument("--cert")
ap.add_argument("--key")
a = ap.parse_args()

out = open(a.out, "a", buffering=1)
proto = mqtt.MQTTv5 if a.v5 else mqtt.MQTTv311
cid = a.session or "sub-%d" % time.time_ns()
if a.v5:
    c = mqtt.Client(client_id=cid, protocol=proto)
else:
    c = mqtt.Client(client_id=cid, clean_session=a.session is None, protocol=proto)
if a.user:
    c.username_pw_set(a.user, a.password)
if a.ca:
    c.tls_set(ca_certs=a.ca, certfile=a.cert, keyfile=a.key, cert_reqs=ssl.CERT_REQUIRED)
c.reconnect_delay_set(min_delay=1, max_delay=1)


def on_connect(client, userdata, flags, rc, properties=None):
    client.subscribe(a.topic, qos=1)


def on_subscribe(client, userdata, mid, granted, properties=None):
    open(a.out + ".ready", "w").close()


def on_message(client, userdata, msg):
    props = {}
    p = getattr(msg, "properties", None)
    if p is not None:
        for name in ("ContentType", "MessageExpiryInterval", "UserProperty"):
            if hasattr(p, name):
                props[name] = getattr(p, name)
    out.write(json.dumps({"topic": msg.topic, "payload": msg.payload.decode("utf-8", "replace"),
                          "retain": bool(msg.retain), "t": time.time(), "props": props}) + "\n")


c.on_connect = on_connect
c.on_subscribe = on_subscribe
c.on_message = on_message
if a.v5:
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes
    cp = Properties(PacketTypes.CONNECT)
    cp.SessionExpiryInterval = 3600 if a.session else 0
    c.connect(a.host, a.port, keepalive=10, clean_start=a.session is None, properties=cp)
else:
    c.connect(a.host, a.port, keepalive=10)
try:
    c.loop_forever(retry_first_connection=True)
except KeyboardInterrupt:
    pass
sys.exit(0)
