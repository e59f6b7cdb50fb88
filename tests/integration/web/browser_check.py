#!/usr/bin/python3
"""Checks the live page in headless Chromium, driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages separated by NUL on file descriptors 3 and 4, so
no WebSocket client is needed).

usage: browser_check.py CHROMIUM URL PROFILE_DIR OUT_DIR SIM_PID DEVICE RULE

1. The page connects to the event stream ("live") and the PUE it shows changes with the
   instant records (live updates).
2. The PUE shown is the instant PUE of /api/v1/kpi: the page's record (its "to") is looked
   up among the records read from the API meanwhile; value equal, text = 2 decimals.
3. No "NaN", "undefined" or "Infinity" anywhere in the page's text.
4. After SIGUSR1 to the simulator (which silences DEVICE's unit), DEVICE is listed
   offline at the top of the device table and the alert RULE is shown in the banner.
Screenshots: OUT_DIR/live-page.png (before) and OUT_DIR/live-page-offline.png (after).
"""
import base64
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request


class Chrome:
    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def wire():
            # The pipe ends may themselves be 3 or 4: move both out of the way first.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                "--remote-debugging-pipe", "--window-size=1600,1300",
                "--hide-scrollbars", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=wire, close_fds=False,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(profile, "chromium.log"), "wb"))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.session = None

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            while b"\0" not in self.buf:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError(method)
                ready, _, _ = select.select([self.from_chrome], [], [], left)
                if ready:
                    chunk = os.read(self.from_chrome, 1 << 20)
                    if not chunk:
                        raise EOFError("chromium closed the pipe")
                    self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:  # events in between are not needed
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})

    def attach(self):
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        pages = [t for t in targets if t["type"] == "page"]
        if pages:
            target = pages[0]["targetId"]
        else:
            target = self.send("Target.createTarget", {"url": "about:blank"},
                               session=False)["targetId"]
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]

    def eval(self, expression):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("page: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def screenshot(self, path):
        m = self.send("Page.getLayoutMetrics")
        size = m.get("cssContentSize") or m["contentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send("Page.captureScreenshot",
                         {"format": "png", "clip": clip, "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ApiWatcher(threading.Thread):
    """Reads /api/v1/kpi every 100 ms and keeps each instant record's PUE by its "to"."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.url = base + "api/v1/kpi?window=instant"
        self.seen = {}
        self.lock = threading.Lock()
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    body = json.loads(r.read().decode())
                for rec in body.get("records", []):
                    if rec.get("window") == "instant" and rec.get("to"):
                        with self.lock:
                            self.seen[rec["to"]] = rec["kpi"]["pue"]
            except OSError:
                pass
            time.sleep(0.1)

    def lookup(self, to):
        with self.lock:
            return (True, self.seen[to]) if to in self.seen else (False, None)


STATE_JS = r"""(() => {
  const v = document.getElementById('pue-value');
  if (!v) return null; /* still loading (about:blank) */
  return {
    value: v.dataset.value, text: v.textContent, to: v.dataset.to, state: v.dataset.state,
    conn: document.getElementById('conn').textContent,
    devices: Array.from(document.querySelectorAll('#devices tbody tr'))
      .filter(r => r.dataset.device).map(r => [r.dataset.device, r.dataset.state]),
    alerts: Array.from(document.querySelectorAll('#alerts .alert')).map(a => a.dataset.rule),
    body: document.body.innerText
  };
})()"""


def wait_for(chrome, what, predicate, timeout):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = chrome.eval(STATE_JS)
        if last and predicate(last):
            return last
        time.sleep(0.25)
    last = dict(last or {})
    last.pop("body", None)
    raise AssertionError("timed out waiting for %s; page state: %s" % (what, last))


def two_decimals(v):
    """Both roundings of a tie (JavaScript rounds half up, Python half to even)."""
    out = {"%.2f" % v}
    from decimal import Decimal, ROUND_HALF_UP
    out.add(str(Decimal(repr(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)))
    return out


def main():
    chromium, url, profile, out_dir, sim_pid, device, rule = sys.argv[1:8]
    watcher = ApiWatcher(url)
    watcher.start()
    chrome = Chrome(chromium, profile)
    try:
        chrome.attach()
        chrome.send("Page.enable")
        chrome.send("Runtime.enable")
        chrome.send("Page.navigate", {"url": url})

        # 1. live: connected, a PUE shown, and at least two further instant records seen
        s = wait_for(chrome, "the page to go live with a PUE",
                     lambda s: s["conn"] == "live" and s["value"], 30)
        seen_to = {s["to"]}
        s = wait_for(chrome, "two more instant records",
                     lambda s: seen_to.add(s["to"]) or len(seen_to) >= 3, 20)
        print("ok: page live; %d instant records shown" % len(seen_to))

        # 2. the PUE shown is the API's instant PUE for the same record
        for _ in range(60):
            s = chrome.eval(STATE_JS)
            found, api = watcher.lookup(s["to"]) if s else (False, None)
            if found:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the page's record %s never appeared in /api/v1/kpi" % s["to"])
        assert api is not None, "API PUE is null for %s" % s["to"]
        assert float(s["value"]) == api, (s["value"], api)
        assert s["text"] in two_decimals(api), (s["text"], api)
        assert s["state"] in ("ok", "partial"), s["state"]
        print("ok: PUE shown %s = /api/v1/kpi instant PUE %r (record %s)" % (s["text"], api, s["to"]))

        # 3. never NaN on the page
        for bad in ("NaN", "undefined", "Infinity"):
            assert bad not in s["body"], "'%s' on the page" % bad
        assert s["devices"] and all(st == "up" for _, st in s["devices"]), s["devices"]
        print("ok: %d devices online, no NaN/undefined on the page" % len(s["devices"]))
        time.sleep(1.5)  # let the chart gather a few points for the picture
        chrome.screenshot(os.path.join(out_dir, "live-page.png"))

        # 4. a device goes offline: listed first, and the alert banner shows the rule
        os.kill(int(sim_pid), signal.SIGUSR1)
        s = wait_for(chrome, "%s offline on top and alert %s" % (device, rule),
                     lambda s: s["devices"] and s["devices"][0] == [device, "down"]
                     and rule in s["alerts"], 40)
        others = [d for d in s["devices"][1:] if d[1] == "down"]
        assert not others, "only %s should be offline: %s" % (device, others)
        print("ok: %s offline at the top of the device table; alert '%s' shown" % (device, rule))
        chrome.screenshot(os.path.join(out_dir, "live-page-offline.png"))
    finally:
        watcher.stop = True
        chrome.close()


if __name__ == "__main__":
    main()
