#!/usr/bin/python3
"""Redfish services for the tests, shaped like DMTF's public mockups (public-rackmount1,
public-pdu): ServiceRoot, Chassis, EnvironmentMetrics, PowerSubsystem with power supplies,
Sensors, the deprecated Power resource, RackPDUs. Power readings change over time and the
energy registers grow with them.

  redfish_server.py [--tls CERT KEY] [--user U --password P] [--session-ttl S]
                    --bmc NAME:KIND[:AUTH[:DELAY]] ...   one port per BMC
                    [--hosts N:KIND[:AUTH]]               N BMCs on one port, told apart by
                                                          the Host header (bmcNNNN.localhost)
KIND: env | psu | sensors | legacy | pdu | unauth. AUTH: none | basic | session.
DELAY: seconds every answer of that BMC waits (a slow BMC).
Prints "listening NAME PORT" per port, then "listening all 0". GET /_stats (no auth) gives
per-BMC counts of logins, logouts and GETs.
"""
import argparse
import base64
import json
import math
import secrets
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

T0 = time.time()
LOCK = threading.Lock()


class Bmc:
    def __init__(self, name, kind, auth, delay, base):
        self.name, self.kind, self.auth, self.delay = name, kind, auth, delay
        self.base = base          # watts
        self.sessions = {}        # token -> (id, created)
        self.next_id = 1
        self.stats = {"logins": 0, "logouts": 0, "gets": 0, "unauthorised": 0}

    def power(self):
        t = time.time() - T0
        return round(self.base + 0.1 * self.base * math.sin(t / 3.0), 1)

    def energy_kwh(self):
        # A register that started at the mockup's value and grows with the mean power.
        return round(325675.0 + self.base * (time.time() - T0) / 3.6e6, 6)


def odata(path, **kw):
    doc = {"@odata.id": path}
    doc.update(kw)
    return doc


def link(path):
    return {"@odata.id": path}


def documents(b):
    """The service's resources as path -> document (computed per request)."""
    r = "/redfish/v1"
    docs = {r: odata(r, **{"@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot", "Id": "RootService",
                           "RedfishVersion": "1.17.0",
                           "SessionService": link(r + "/SessionService"),
                           "Links": {"Sessions": link(r + "/SessionService/Sessions")}})}
    if b.kind == "pdu":
        docs[r]["PowerEquipment"] = link(r + "/PowerEquipment")
        docs[r + "/PowerEquipment"] = odata(r + "/PowerEquipment", RackPDUs=link(r + "/PowerEquipment/RackPDUs"))
        docs[r + "/PowerEquipment/RackPDUs"] = odata(r + "/PowerEquipment/RackPDUs",
                                                     Members=[link(r + "/PowerEquipment/RackPDUs/1")])
        docs[r + "/PowerEquipment/RackPDUs/1"] = odata(r + "/PowerEquipment/RackPDUs/1", Id="1",
                                                       Metrics=link(r + "/PowerEquipment/RackPDUs/1/Metrics"),
                                                       Status={"State": "Enabled", "Health": "OK"})
        docs[r + "/PowerEquipment/RackPDUs/1/Metrics"] = odata(
            r + "/PowerEquipment/RackPDUs/1/Metrics", PowerWatts={"Reading": b.power()},
            EnergykWh={"Reading": round(56438.0 + b.base * (time.time() - T0) / 3.6e6, 6)})
        return docs
    c = r + "/Chassis/1U"
    docs[r]["Chassis"] = link(r + "/Chassis")
    docs[r + "/Chassis"] = odata(r + "/Chassis", Members=[link(c)], **{"Members@odata.count": 1})
    chassis = odata(c, Id="1U", Name="Computer System Chassis", ChassisType="RackMount",
                    Status={"State": "Enabled", "Health": "OK"})
    docs[c] = chassis
    p = b.power()
    if b.kind == "env":
        chassis["EnvironmentMetrics"] = link(c + "/EnvironmentMetrics")
        docs[c + "/EnvironmentMetrics"] = odata(c + "/EnvironmentMetrics",
                                                PowerWatts={"DataSourceUri": c + "/Sensors/TotalPower", "Reading": p},
                                                EnergykWh={"DataSourceUri": c + "/Sensors/TotalEnergy", "Reading": b.energy_kwh()},
                                                TemperatureCelsius={"Reading": 24.5})
    if b.kind in ("env", "psu"):
        chassis["PowerSubsystem"] = link(c + "/PowerSubsystem")
        ps = c + "/PowerSubsystem/PowerSupplies"
        docs[c + "/PowerSubsystem"] = odata(c + "/PowerSubsystem", PowerSupplies=link(ps))
        docs[ps] = odata(ps, Members=[link(ps + "/Bay1"), link(ps + "/Bay2"), link(ps + "/Bay3")])
        for bay, share in (("Bay1", 0.55), ("Bay2", 0.45)):
            docs[ps + "/" + bay] = odata(ps + "/" + bay, Id=bay, Status={"State": "Enabled"},
                                         Metrics=link(ps + "/" + bay + "/Metrics"))
            docs[ps + "/" + bay + "/Metrics"] = odata(ps + "/" + bay + "/Metrics",
                                                      InputPowerWatts={"Reading": round(p * share, 3)},
                                                      InputVoltage={"Reading": 230.1})
        docs[ps + "/Bay3"] = odata(ps + "/Bay3", Id="Bay3", Status={"State": "Absent"})
    if b.kind in ("env", "psu", "sensors"):
        chassis["Sensors"] = link(c + "/Sensors")
        s = c + "/Sensors"
        docs[s] = odata(s, Members=[link(s + "/AmbientTemp"), link(s + "/CPU1Power"),
                                    link(s + "/TotalPower"), link(s + "/TotalEnergy")])
        docs[s + "/AmbientTemp"] = odata(s + "/AmbientTemp", ReadingType="Temperature", Reading=24.5,
                                         ReadingUnits="Cel", PhysicalContext="Room")
        docs[s + "/CPU1Power"] = odata(s + "/CPU1Power", ReadingType="Power", Reading=95.0,
                                       ReadingUnits="W", PhysicalContext="CPU")
        docs[s + "/TotalPower"] = odata(s + "/TotalPower", ReadingType="Power", Reading=p,
                                        ReadingUnits="W", PhysicalContext="Chassis")
        docs[s + "/TotalEnergy"] = odata(s + "/TotalEnergy", ReadingType="EnergykWh",
                                         Reading=b.energy_kwh(), ReadingUnits="kW.h",
                                         PhysicalContext="Chassis")
    # Every chassis keeps the deprecated resource, as real BMCs do during the transition.
    chassis["Power"] = link(c + "/Power")
    docs[c + "/Power"] = odata(c + "/Power", PowerControl=[
        {"@odata.id": c + "/Power#/PowerControl/0", "MemberId": "0", "PowerConsumedWatts": p,
         "PowerMetrics": {"AverageConsumedWatts": p}}])
    return docs


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def bmc(self):
        srv = self.server
        if srv.by_host:
            host = (self.headers.get("Host") or "").split(":")[0]
            return srv.by_host.get(host.split(".")[0])
        return srv.bmc

    def reply(self, code, doc=None, headers=()):
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def authorised(self, b):
        if b.kind == "unauth":
            return False
        if b.auth == "none":
            return True
        if b.auth == "basic":
            want = "Basic " + base64.b64encode(f"{self.server.user}:{self.server.password}".encode()).decode()
            return self.headers.get("Authorization") == want
        tok = self.headers.get("X-Auth-Token")
        with LOCK:
            s = b.sessions.get(tok)
            if s and self.server.ttl and time.time() - s[1] > self.server.ttl:
                del b.sessions[tok]   # expired: the client must log in again
                s = None
        return s is not None

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_stats":
            self.reply(200, {n: b.stats for n, b in self.server.all.items()})
            return
        b = self.bmc()
        if b is None:
            self.reply(404, {"error": "unknown host"})
            return
        if b.delay:
            time.sleep(b.delay)
        # The service root is readable without credentials (Redfish specification).
        if not (self.path.rstrip("/") == "/redfish/v1" and b.kind != "unauth") and \
                not self.authorised(b):
            with LOCK:
                b.stats["unauthorised"] += 1
            self.reply(401, {"error": {"code": "Base.1.0.NoValidSession"}},
                       [("WWW-Authenticate", 'Basic realm="BMC"')])
            return
        with LOCK:
            b.stats["gets"] += 1
        doc = documents(b).get(self.path.rstrip("/") or "/")
        self.reply(200 if doc else 404, doc if doc else {"error": "not found"})

    def do_POST(self):
        b = self.bmc()
        data = self.body()
        if b is None or self.path != "/redfish/v1/SessionService/Sessions":
            self.reply(404, {"error": "not found"})
            return
        if b.delay:
            time.sleep(b.delay)
        try:
            req = json.loads(data)
        except ValueError:
            self.reply(400, {"error": "bad json"})
            return
        if b.kind == "unauth" or req.get("UserName") != self.server.user or \
                req.get("Password") != self.server.password:
            self.reply(401, {"error": "bad credentials"})
            return
        with LOCK:
            sid = str(b.next_id)
            b.next_id += 1
            tok = secrets.token_hex(16)
            b.sessions[tok] = (sid, time.time())
            b.stats["logins"] += 1
        loc = "/redfish/v1/SessionService/Sessions/" + sid
        self.reply(201, odata(loc, Id=sid, UserName=req["UserName"]),
                   [("X-Auth-Token", tok), ("Location", loc)])

    def do_DELETE(self):
        b = self.bmc()
        if b is None:
            self.reply(404, {"error": "not found"})
            return
        tok = self.headers.get("X-Auth-Token")
        with LOCK:
            s = b.sessions.get(tok)
            if s and self.path == "/redfish/v1/SessionService/Sessions/" + s[0]:
                del b.sessions[tok]
                b.stats["logouts"] += 1
                ok = True
            else:
                ok = False
        self.reply(204 if ok else 401)


class Server(ThreadingHTTPServer):
    """TLS handshakes happen in each connection's thread, not in the accepting one."""
    daemon_threads = True
    request_queue_size = 1024

    def finish_request(self, request, client_address):
        if self.tls:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)


def serve(args, ctx, bmc=None, by_host=None):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.bmc, srv.by_host = bmc, by_host
    srv.user, srv.password, srv.ttl = args.user, args.password, args.session_ttl
    srv.all = ALL
    srv.tls = ctx
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


ALL = {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--user", default="monitor")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--session-ttl", type=float, default=0)
    ap.add_argument("--bmc", action="append", default=[])
    ap.add_argument("--hosts")
    args = ap.parse_args()
    ctx = None
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
    out = []
    for i, spec in enumerate(args.bmc):
        parts = spec.split(":")
        name, kind = parts[0], parts[1]
        auth = parts[2] if len(parts) > 2 else "none"
        delay = float(parts[3]) if len(parts) > 3 else 0.0
        b = Bmc(name, kind, auth, delay, 300.0 + 50 * i)
        ALL[name] = b
        out.append(f"listening {name} {serve(args, ctx, bmc=b)}")
    if args.hosts:
        parts = args.hosts.split(":")
        n, kind = int(parts[0]), parts[1]
        auth = parts[2] if len(parts) > 2 else "none"
        hosts = {}
        for i in range(n):
            b = Bmc(f"bmc{i:04d}", kind, auth, 0.0, 200.0 + i % 300)
            hosts[b.name] = b
            ALL[b.name] = b
        out.append(f"listening hosts {serve(args, ctx, by_host=hosts)}")
    print("\n".join(out), flush=True)
    print("listening all 0", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
