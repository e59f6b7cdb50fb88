/*
 * dcmetrics live page. Plain JavaScript, no library, no external URL: it talks only to
 * the agent that served it (relative URLs), so it works on an isolated network.
 *
 * Data: the KPI records of /api/v1/kpi at load, then the event stream /api/v1/events
 * (EventSource; it reconnects by itself, and the page resynchronises after each
 * reconnection). The power chart keeps client-side ring buffers: one point per instant
 * record (the last hour), one per closed 1-minute record (the last day) and one per
 * closed 15-minute record. The buffers are saved in the browser's localStorage (per site,
 * every 30 s and when the page is hidden), so a reload keeps the chart; a browser that
 * has never shown the page starts from the records the API holds now (the latest closed
 * 1m and 15m windows) and fills as data arrives.
 */
'use strict';

(function () {
  var STALE_MS = 3000;          /* a live value older than this (client time) is stale */
  var HOUR = 3600e3, DAY = 24 * HOUR;
  var DEVICES_EVERY_MS = 5000;
  var GAUGE_MIN = 1.0, GAUGE_MAX = 2.5;

  var CARDS = [
    { key: 'wue', name: 'WUE', desc: 'water usage effectiveness', unit: 'L/kWh', digits: 2, roles: ['water'] },
    { key: 'cue_location', name: 'CUE', desc: 'carbon, location-based', unit: 'kgCO\u2082e/kWh', digits: 3, roles: ['grid', 'it'] },
    { key: 'cue_market', name: 'CUE', desc: 'carbon, market-based', unit: 'kgCO\u2082e/kWh', digits: 3, roles: ['grid', 'it'] },
    { key: 'ref', name: 'REF', desc: 'renewable energy factor', unit: '', digits: 2, roles: ['onsite_renewable', 'total'] },
    { key: 'erf', name: 'ERF', desc: 'energy reuse factor', unit: '', digits: 2, roles: ['reused', 'total'] },
    { key: 'cer', name: 'CER', desc: 'cooling efficiency ratio', unit: '', digits: 2, roles: ['cooling_output', 'cooling'] },
    { key: 'iteu_sv', name: 'Servers', desc: 'server utilisation (ITEUsv)', unit: '%', digits: 1, roles: ['servers'] },
    { key: 'accel_util', name: 'GPUs', desc: 'accelerator utilisation', unit: '%', digits: 1, roles: ['accelerators'] }
  ];

  var state = {
    latest: {},            /* window name -> latest record */
    receivedAt: {},        /* window name -> client time (ms) it arrived */
    live: ring(7200),      /* {t, it, cooling, other, total} per instant record */
    minutes: ring(2000),   /* per closed 1m record */
    quarters: ring(200),   /* per closed 15m record (history after a reload) */
    alerts: {},            /* "rule\u0000subject" -> alert object */
    devices: null,
    devicesNow: null,      /* the agent's clock when the device list was read */
    pueTarget: null,
    offsetMin: null,       /* the site's UTC offset, from the records' timestamps */
    range: 'hour',
    source: null,
    restored: false,
    connected: false,
    retryMs: 1000,
    chartQueued: false
  };

  /* ------------------------------------------------------------ helpers */

  function $(id) { return document.getElementById(id); }

  function num(v) {
    return typeof v === 'number' && isFinite(v) ? v : null;
  }

  /* A number for display: "—" for null, never NaN. */
  function fmt(v, digits) {
    v = num(v);
    return v === null ? '\u2014' : v.toFixed(digits);
  }

  function fmtKw(v) {
    v = num(v);
    if (v === null) return '\u2014';
    if (Math.abs(v) >= 10000) return (v / 1000).toFixed(1) + ' MW';
    return v.toFixed(v >= 100 ? 0 : 1) + ' kW';
  }

  function text(el, s) {
    if (el && el.textContent !== s) el.textContent = s;
  }

  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  /* A sorted ring of {t, ...} by t (ms): bounded, newest kept. */
  function ring(cap) {
    return { cap: cap, items: [] };
  }

  function ringPut(r, p) {
    var a = r.items, n = a.length;
    if (!n || p.t > a[n - 1].t) {
      a.push(p);
    } else {
      var lo = 0, hi = n;
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (a[mid].t < p.t) lo = mid + 1; else hi = mid;
      }
      if (lo < n && a[lo].t === p.t) a[lo] = p; else a.splice(lo, 0, p);
    }
    if (a.length > r.cap) a.splice(0, a.length - r.cap);
  }

  /* "2026-01-05T10:00:00+08:00" -> the offset in minutes (the site's). */
  function offsetOf(ts) {
    var m = /([+-])(\d\d):(\d\d)$/.exec(ts || '');
    if (m) return (m[1] === '-' ? -1 : 1) * (parseInt(m[2], 10) * 60 + parseInt(m[3], 10));
    return /Z$/.test(ts || '') ? 0 : null;
  }

  /* Site-local wall time of t (ms): the page shows the site's clock, not the viewer's. */
  function siteTime(t, withDate) {
    var off = state.offsetMin === null ? 0 : state.offsetMin;
    var iso = new Date(t + off * 60e3).toISOString();
    return withDate ? iso.slice(0, 10) + ' ' + iso.slice(11, 19) : iso.slice(11, 16);
  }

  function ago(ms) {
    if (ms < 0) ms = 0;
    var s = Math.round(ms / 1000);
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return (s / 3600).toFixed(1) + ' h ago';
    return (s / 86400).toFixed(1) + ' d ago';
  }

  function getJSON(url) {
    return fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
        return r.json();
      });
  }

  /* ------------------------------------------------------------ records */

  /* Average power of the record's roles: instant records carry kW, closed windows kWh.
   * A role with no coverage in the record is unknown, not zero. */
  function powerOf(rec) {
    var from = Date.parse(rec.from), to = Date.parse(rec.to);
    var src, scale;
    if (rec.power_kw) {
      src = rec.power_kw;
      scale = 1;
    } else if (rec.energy_kwh && to > from) {
      src = rec.energy_kwh;
      scale = HOUR / (to - from);
    } else {
      return null;
    }
    var cov = rec.coverage_by_role || {};
    function role(name) {
      var v = num(src[name]);
      if (v === null || cov[name] === 0) return null;
      return v * scale;
    }
    var it = role('it'), cooling = role('cooling'), total = role('total');
    if (it === null && cooling === null && total === null) return null;
    var other = null;
    if (total !== null && it !== null) other = Math.max(0, total - it - (cooling || 0));
    var t = rec.power_kw ? to : (from + to) / 2;
    return { t: t, it: it, cooling: cooling, other: other, total: total };
  }

  function handleRecord(rec) {
    if (!rec || typeof rec !== 'object' || !rec.window) return;
    var w = rec.window;
    var prev = state.latest[w];
    /* A late copy of an older record (history after a live one) does not replace it. */
    if (prev && !rec.interim && prev.to && rec.to && Date.parse(rec.to) < Date.parse(prev.to)) {
      addHistory(rec);
      return;
    }
    state.latest[w] = rec;
    state.receivedAt[w] = Date.now();
    if (state.offsetMin === null) state.offsetMin = offsetOf(rec.to);
    if (!state.restored) restoreHistory();
    if (rec.site && !$('site-name').dataset.fromApi) text($('site-name'), rec.site);
    addHistory(rec);
    if (w === 'instant') {
      renderLive();
    } else {
      renderPeriods();
      renderCards();
    }
    queueChart();
  }

  function addHistory(rec) {
    if (rec.interim && rec.window !== 'instant') return;
    var p = powerOf(rec);
    if (!p) return;
    if (rec.window === 'instant') ringPut(state.live, p);
    else if (rec.window === '1m') ringPut(state.minutes, p);
    else if (rec.window === '15m') ringPut(state.quarters, p);
  }

  /* /api/v1/kpi: {"records": [...]}, {"windows": {name: record}}, {name: record} or a
   * list; an entry may also be {"closed": record, "interim": record}. */
  function recordsOf(body) {
    var out = [];
    function take(v) {
      if (!v || typeof v !== 'object') return;
      if (Array.isArray(v)) { v.forEach(take); return; }
      if (v.window && v.kpi) { out.push(v); return; }
      if (v.closed || v.interim || v.latest) { take(v.closed); take(v.latest); take(v.interim); return; }
      if (v.records) { take(v.records); return; }
      if (v.windows) { take(v.windows); return; }
      Object.keys(v).forEach(function (k) {
        if (v[k] && typeof v[k] === 'object') take(v[k]);
      });
    }
    take(body);
    return out;
  }

  function applySnapshot(body) {
    if (body && typeof body === 'object') {
      if ('pue_target' in body) state.pueTarget = num(body.pue_target);
      else if (body.dashboard && 'pue_target' in body.dashboard) state.pueTarget = num(body.dashboard.pue_target);
      if (body.site_name) { text($('site-name'), body.site_name); $('site-name').dataset.fromApi = '1'; }
      if (typeof body.site === 'string') text($(body.site_name ? 'site-id' : 'site-name'), body.site);
    }
    var recs = recordsOf(body);
    /* Oldest first, so that the latest of each window wins. */
    recs.sort(function (a, b) { return Date.parse(a.to) - Date.parse(b.to); });
    recs.forEach(function (r) {
      if (r.window === 'instant' || !r.interim) handleRecord(r);
      else if (!state.latest[r.window] || state.latest[r.window].interim) {
        state.latest[r.window] = r;
      }
    });
    renderAll();
  }

  /* ------------------------------------------------------------ PUE gauge */

  var SVG = 'http://www.w3.org/2000/svg';
  var G = { cx: 160, cy: 160, r: 116 };

  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function angleOf(v) {
    var f = (Math.min(Math.max(v, GAUGE_MIN), GAUGE_MAX) - GAUGE_MIN) / (GAUGE_MAX - GAUGE_MIN);
    return Math.PI * (1 - f); /* 180 deg (left) .. 0 deg (right) */
  }

  function polar(a, r) {
    return [G.cx + r * Math.cos(a), G.cy - r * Math.sin(a)];
  }

  function arcPath(v0, v1, r) {
    var a0 = angleOf(v0), a1 = angleOf(v1);
    var p0 = polar(a0, r), p1 = polar(a1, r);
    var large = Math.abs(a0 - a1) > Math.PI ? 1 : 0;
    return 'M' + p0[0].toFixed(2) + ' ' + p0[1].toFixed(2) + ' A' + r + ' ' + r + ' 0 ' + large +
      ' 1 ' + p1[0].toFixed(2) + ' ' + p1[1].toFixed(2);
  }

  function buildGauge() {
    var g = $('gauge');
    while (g.firstChild) g.removeChild(g.firstChild);
    g.appendChild(svgEl('path', { 'class': 'track', d: arcPath(GAUGE_MIN, GAUGE_MAX, G.r) }));
    var bands = [[1.0, 1.3, 'var(--ok)'], [1.3, 1.6, 'var(--partial)'], [1.6, GAUGE_MAX, 'var(--bad)']];
    bands.forEach(function (b) {
      g.appendChild(svgEl('path', { 'class': 'band', d: arcPath(b[0], b[1], G.r), stroke: b[2] }));
    });
    g.appendChild(svgEl('path', { 'class': 'fill', id: 'gauge-fill', d: arcPath(GAUGE_MIN, GAUGE_MIN + 1e-6, G.r), stroke: 'var(--ok)' }));
    for (var v = 1.0; v <= GAUGE_MAX + 1e-9; v += 0.25) {
      var a = angleOf(v), p0 = polar(a, G.r + 13), p1 = polar(a, G.r + 20), pl = polar(a, G.r + 30);
      g.appendChild(svgEl('line', { 'class': 'tick', x1: p0[0], y1: p0[1], x2: p1[0], y2: p1[1] }));
      if (Math.abs(v * 2 - Math.round(v * 2)) < 1e-9) {
        var t = svgEl('text', { 'class': 'tick-label', x: pl[0], y: pl[1] + 4 });
        t.textContent = v.toFixed(1);
        g.appendChild(t);
      }
    }
    var target = svgEl('g', { id: 'gauge-target' });
    target.appendChild(svgEl('line', { 'class': 'target', id: 'gauge-target-line', x1: 0, y1: 0, x2: 0, y2: 0 }));
    var tl = svgEl('text', { 'class': 'target-label', id: 'gauge-target-label', x: 0, y: 0 });
    target.appendChild(tl);
    g.appendChild(target);
  }

  function drawGauge(v, quality) {
    var fill = $('gauge-fill');
    if (v === null) {
      fill.setAttribute('d', arcPath(GAUGE_MIN, GAUGE_MIN + 1e-6, G.r));
      fill.setAttribute('stroke', 'var(--invalid)');
    } else {
      fill.setAttribute('d', arcPath(GAUGE_MIN, Math.max(v, GAUGE_MIN + 1e-6), G.r));
      var color = v < 1.3 ? 'var(--ok)' : v < 1.6 ? 'var(--partial)' : 'var(--bad)';
      if (quality === 'stale' || quality === 'invalid') color = 'var(--stale)';
      fill.setAttribute('stroke', color);
    }
    var target = state.pueTarget;
    var group = $('gauge-target');
    if (target === null) {
      group.setAttribute('visibility', 'hidden');
      text($('pue-target'), '');
      return;
    }
    group.setAttribute('visibility', 'visible');
    var a = angleOf(target), p0 = polar(a, G.r - 17), p1 = polar(a, G.r + 17), pl = polar(a, G.r - 32);
    var line = $('gauge-target-line');
    line.setAttribute('x1', p0[0]); line.setAttribute('y1', p0[1]);
    line.setAttribute('x2', p1[0]); line.setAttribute('y2', p1[1]);
    var label = $('gauge-target-label');
    label.setAttribute('x', pl[0]); label.setAttribute('y', pl[1] + 4);
    text(label, 'target');
    var over = v !== null && v > target;
    text($('pue-target'), 'target ' + target.toFixed(2) + (v === null ? '' : over ? ' \u2191 above' : ' \u2713 met'));
  }

  /* ------------------------------------------------------------ rendering */

  /* ok / partial / stale / invalid for one live value. */
  function liveState(rec, quality, value) {
    if (value === null) return 'invalid';
    var at = state.receivedAt[rec && rec.window];
    if (!at || Date.now() - at > STALE_MS) return 'stale';
    if (quality === 'stale' || quality === 'invalid') return quality;
    return quality === 'partial' ? 'partial' : 'ok';
  }

  var STATE_LABEL = { ok: 'live', partial: 'partial', stale: 'stale', invalid: 'no data' };

  function badge(node, st) {
    node.className = 'badge q-' + st;
    text(node, STATE_LABEL[st]);
  }

  function renderLive() {
    var rec = state.latest.instant;
    var k = rec && rec.kpi ? rec.kpi : {};
    var q = rec && rec.kpi_quality ? rec.kpi_quality : {};
    var pue = num(k.pue);
    var st = liveState(rec, q.pue, pue);
    var pv = $('pue-value');
    text(pv, fmt(pue, 2));
    pv.dataset.state = st;
    pv.dataset.value = pue === null ? '' : String(pue);
    pv.dataset.to = rec && rec.to ? rec.to : '';
    badge($('pue-quality'), st);
    drawGauge(pue, st);
    if (rec && rec.to) {
      text($('data-time'), siteTime(Date.parse(rec.to), true) + ' ' + (rec.to.match(/([+-]\d\d:\d\d|Z)$/) || [''])[0]);
    }
    if (rec && rec.ruleset) text($('foot-ruleset'), 'rules ' + rec.ruleset);
    var p = rec ? powerOf(rec) : null;
    text($('pw-it'), fmtKw(p && p.it));
    text($('pw-cooling'), fmtKw(p && p.cooling));
    text($('pw-other'), fmtKw(p && p.other));
    text($('pw-total'), fmtKw(p && p.total));
    renderCards();
    renderZones();
  }

  function renderPeriods() {
    [['1h', 'pue-1h'], ['1d', 'pue-1d'], ['month', 'pue-month'], ['year', 'pue-year']].forEach(function (x) {
      var r = state.latest[x[0]];
      var v = r && r.kpi ? num(r.kpi.pue) : null;
      var node = $(x[1]);
      text(node, fmt(v, 2));
      node.title = r ? (r.interim ? 'so far: ' : '') + r.from + ' \u2013 ' + r.to +
        ' (coverage ' + fmt((num(r.coverage) || 0) * 100, 0) + '%)' : 'no record yet';
    });
  }

  /* Coverage of a card: its roles in the latest closed window of an hour or less. */
  function coverageOf(card) {
    var wins = ['1h', '15m', '1m'];
    for (var i = 0; i < wins.length; i++) {
      var r = state.latest[wins[i]];
      if (!r || r.interim) continue;
      var by = r.coverage_by_role || {}, c = null;
      card.roles.forEach(function (role) {
        var v = num(by[role]);
        if (v !== null) c = c === null ? v : Math.min(c, v);
      });
      if (c === null) c = num(r.coverage);
      if (c !== null) return { value: c, window: wins[i] };
    }
    return null;
  }

  var cardNodes = {};

  function buildCards() {
    var box = $('cards');
    CARDS.forEach(function (c) {
      var card = el('div', 'card');
      card.dataset.kpi = c.key;
      var head = el('div', 'head');
      head.appendChild(el('span', 'name', c.name));
      var b = el('span', 'badge q-invalid', 'no data');
      head.appendChild(b);
      card.appendChild(head);
      card.appendChild(el('div', 'desc', c.desc));
      var value = el('div', 'value');
      var vnum = el('span', 'v', '\u2014');
      value.appendChild(vnum);
      if (c.unit) value.appendChild(el('span', 'unit', c.unit));
      card.appendChild(value);
      var period = el('div', 'period');
      card.appendChild(period);
      var cov = el('div', 'cov');
      var covLabel = el('span', '', 'coverage \u2014');
      var bar = el('span', 'bar');
      var fill = el('i');
      bar.appendChild(fill);
      cov.appendChild(covLabel);
      cov.appendChild(bar);
      card.appendChild(cov);
      box.appendChild(card);
      cardNodes[c.key] = { card: card, badge: b, value: vnum, period: period, covLabel: covLabel, covFill: fill };
    });
  }

  function renderCards() {
    var rec = state.latest.instant;
    var k = rec && rec.kpi ? rec.kpi : {};
    var q = rec && rec.kpi_quality ? rec.kpi_quality : {};
    var hour = state.latest['1h'];
    CARDS.forEach(function (c) {
      var n = cardNodes[c.key];
      var v = num(k[c.key]);
      var st = liveState(rec, q[c.key], v);
      n.card.dataset.state = st;
      badge(n.badge, st);
      text(n.value, fmt(v, c.digits));
      var hv = hour && hour.kpi ? num(hour.kpi[c.key]) : null;
      n.period.textContent = '';
      n.period.appendChild(document.createTextNode('last hour '));
      n.period.appendChild(el('b', '', fmt(hv, c.digits)));
      var cov = coverageOf(c);
      if (cov) {
        text(n.covLabel, 'coverage ' + cov.window + ' ' + Math.round(cov.value * 100) + '%');
        n.covFill.style.width = Math.max(0, Math.min(100, cov.value * 100)).toFixed(1) + '%';
        n.covFill.className = cov.value < 0.95 ? 'low' : '';
      } else {
        text(n.covLabel, 'coverage \u2014');
        n.covFill.style.width = '0';
      }
    });
  }

  function renderZones() {
    var rec = state.latest.instant;
    var ppue = rec && rec.kpi && rec.kpi.ppue && typeof rec.kpi.ppue === 'object' ? rec.kpi.ppue : null;
    var quality = rec && rec.kpi_quality && rec.kpi_quality.ppue ? rec.kpi_quality.ppue : {};
    var box = $('zones');
    var names = ppue ? Object.keys(ppue) : [];
    if (!names.length) return;
    if (box.dataset.zones !== names.join('\u0000')) {
      box.textContent = '';
      names.forEach(function (name) {
        var row = el('div', 'zone');
        row.dataset.zone = name;
        row.appendChild(el('span', 'zname', name));
        var bar = el('span', 'zbar');
        bar.appendChild(el('i'));
        row.appendChild(bar);
        row.appendChild(el('span', 'zval', '\u2014'));
        box.appendChild(row);
      });
      box.dataset.zones = names.join('\u0000');
    }
    Array.prototype.forEach.call(box.children, function (row) {
      var name = row.dataset.zone;
      var v = num(ppue[name]);
      var st = liveState(rec, quality[name], v);
      row.dataset.state = st;
      row.title = name + ': ' + STATE_LABEL[st];
      text(row.querySelector('.zval'), fmt(v, 2));
      /* 1.0 (no overhead) to 1.6 fills the bar: zones rarely go beyond. */
      var f = v === null ? 0 : Math.max(0, Math.min(1, (v - 1) / 0.6));
      row.querySelector('.zbar i').style.width = (f * 100).toFixed(1) + '%';
    });
  }

  /* ------------------------------------------------------------ power chart */

  function queueChart() {
    if (state.chartQueued) return;
    state.chartQueued = true;
    setTimeout(function () {
      state.chartQueued = false;
      drawChart();
    }, 250);
  }

  /* The points of the chosen range: live points where there are any, coarser records
   * before them. */
  function chartPoints(range) {
    var end = null;
    [state.live, state.minutes, state.quarters].forEach(function (r) {
      var a = r.items;
      if (a.length && (end === null || a[a.length - 1].t > end)) end = a[a.length - 1].t;
    });
    if (end === null) return { points: [], start: 0, end: 0 };
    var span = range === 'day' ? DAY : HOUR;
    var start = end - span;
    var layers = range === 'day' ? [state.minutes, state.quarters, state.live]
                                 : [state.live, state.minutes, state.quarters];
    var out = [], covered = Infinity;
    layers.forEach(function (r, i) {
      var a = r.items, first = null;
      for (var j = 0; j < a.length; j++) {
        var p = a[j];
        if (p.t < start || p.t > end || p.it === null) continue;
        /* finer layers first; coarser ones only before them (day: minutes, then live after) */
        if (range === 'day' && i === 2) {
          var lastMin = state.minutes.items.length ? state.minutes.items[state.minutes.items.length - 1].t : -Infinity;
          if (p.t <= lastMin) continue;
        } else if (p.t >= covered) {
          continue;
        }
        out.push(p);
        if (first === null) first = p.t;
      }
      if (first !== null && !(range === 'day' && i === 2)) covered = Math.min(covered, first);
    });
    out.sort(function (a, b) { return a.t - b.t; });
    /* Until the range is full the chart spans the data it has (at least 2 minutes), so a
     * fresh page shows a curve, not a sliver at the right edge. */
    var shown = start;
    if (out.length && out[0].t > start) shown = Math.max(start, Math.min(out[0].t, end - 2 * 60e3));
    return { points: out, start: shown, nominalStart: start, end: end };
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    var step = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
    return step * p;
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
  }

  function drawChart() {
    var canvas = $('power-chart');
    var box = canvas.getBoundingClientRect();
    var dpr = window.devicePixelRatio || 1;
    var w = Math.max(200, Math.round(box.width)), h = Math.max(160, Math.round(box.height));
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var data = chartPoints(state.range);
    var pts = data.points.filter(function (p) { return p.it !== null; });
    var pad = { l: 64, r: 12, t: 10, b: 26 };
    var pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
    var maxV = 0;
    pts.forEach(function (p) {
      var s = (p.it || 0) + (p.cooling || 0) + (p.other || 0);
      if (s > maxV) maxV = s;
      if (p.total !== null && p.total > maxV) maxV = p.total;
    });
    var ymax = niceMax(maxV * 1.08);
    var x = function (t) { return pad.l + (t - data.start) / (data.end - data.start || 1) * pw; };
    var y = function (v) { return pad.t + ph - v / ymax * ph; };

    ctx.font = '12px ' + cssVar('--num');
    ctx.fillStyle = cssVar('--muted');
    ctx.strokeStyle = cssVar('--line');
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (var i = 0; i <= 4; i++) {
      var v = ymax * i / 4, yy = Math.round(y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(pad.l, yy); ctx.lineTo(w - pad.r, yy); ctx.stroke();
      ctx.fillText(fmtKw(v), pad.l - 6, yy);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    if (data.end > data.start) {
      var steps = [60e3, 2 * 60e3, 5 * 60e3, 10 * 60e3, 15 * 60e3, 30 * 60e3, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR];
      var stepMs = steps[steps.length - 1];
      for (var si = 0; si < steps.length; si++) {
        if ((data.end - data.start) / steps[si] <= 7) { stepMs = steps[si]; break; }
      }
      var off = (state.offsetMin || 0) * 60e3;
      for (var t = Math.ceil((data.start + off) / stepMs) * stepMs - off; t <= data.end; t += stepMs) {
        var xx = Math.round(x(t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(xx, pad.t); ctx.lineTo(xx, pad.t + ph); ctx.stroke();
        ctx.fillText(siteTime(t, false), xx, pad.t + ph + 6);
      }
    }
    if (pts.length < 2) {
      ctx.textBaseline = 'middle';
      ctx.fillStyle = cssVar('--muted');
      ctx.font = '15px system-ui, sans-serif';
      ctx.fillText(pts.length ? 'collecting\u2026' : 'waiting for power data\u2026', pad.l + pw / 2, pad.t + ph / 2);
      noteChart(data);
      return;
    }

    /* Runs without gaps: a hole longer than 5 times the typical spacing breaks the area. */
    var gaps = [];
    for (var g = 1; g < pts.length; g++) gaps.push(pts[g].t - pts[g - 1].t);
    gaps.sort(function (a, b) { return a - b; });
    var limit = 5 * gaps[Math.floor(gaps.length / 2)];
    var runs = [], run = [pts[0]];
    for (var k = 1; k < pts.length; k++) {
      if (pts[k].t - pts[k - 1].t > limit) { runs.push(run); run = []; }
      run.push(pts[k]);
    }
    runs.push(run);

    var layers = [['it', cssVar('--it')], ['cooling', cssVar('--cooling')], ['other', cssVar('--other')]];
    runs.forEach(function (r) {
      var base = r.map(function () { return 0; });
      layers.forEach(function (layer) {
        var top = r.map(function (p, j) { return base[j] + (p[layer[0]] || 0); });
        ctx.beginPath();
        r.forEach(function (p, j) {
          var px = x(p.t), py = y(top[j]);
          if (j) ctx.lineTo(px, py); else ctx.moveTo(px, py);
        });
        for (var j = r.length - 1; j >= 0; j--) ctx.lineTo(x(r[j].t), y(base[j]));
        ctx.closePath();
        ctx.globalAlpha = 0.85;
        ctx.fillStyle = layer[1];
        ctx.fill();
        ctx.globalAlpha = 1;
        base = top;
      });
      ctx.beginPath();
      var started = false;
      r.forEach(function (p) {
        if (p.total === null) { started = false; return; }
        if (started) ctx.lineTo(x(p.t), y(p.total)); else ctx.moveTo(x(p.t), y(p.total));
        started = true;
      });
      ctx.strokeStyle = cssVar('--text');
      ctx.lineWidth = 1.5;
      ctx.stroke();
    });
    noteChart(data);
  }

  function noteChart(data) {
    var first = data.points.length ? data.points[0].t : null;
    var span = state.range === 'day' ? DAY : HOUR;
    var msg = '';
    if (first !== null && first - data.nominalStart > span * 0.05) {
      msg = 'History from ' + siteTime(first, false) + ' (site time): this page keeps what it has seen since it was opened, plus the history the agent serves.';
    }
    text($('power-note'), msg);
  }

  /* ------------------------------------------------------------ alerts */

  function alertKey(a) { return (a.rule || '') + '\u0000' + (a.subject || ''); }

  function handleAlert(a) {
    if (!a || typeof a !== 'object' || !a.rule) return;
    if (a.state === 'cleared') delete state.alerts[alertKey(a)];
    else state.alerts[alertKey(a)] = a;
    renderAlerts();
    if (a.kind === 'offline') loadDevices();
  }

  function renderAlerts() {
    var list = Object.keys(state.alerts).map(function (k) { return state.alerts[k]; });
    list.sort(function (a, b) {
      var sa = a.severity === 'critical' ? 0 : 1, sb = b.severity === 'critical' ? 0 : 1;
      return sa - sb || String(a.ts).localeCompare(String(b.ts));
    });
    var box = $('alerts');
    box.textContent = '';
    list.forEach(function (a) {
      var row = el('div', 'alert' + (a.severity === 'critical' ? ' critical' : ''));
      row.dataset.rule = a.rule;
      row.appendChild(el('span', 'sev', a.severity || 'warning'));
      row.appendChild(el('span', 'rule', a.rule));
      row.appendChild(el('span', 'msg', a.message || a.subject || ''));
      var since = a.since || a.ts;
      row.appendChild(el('span', 'since', since ? 'since ' + siteTime(Date.parse(since), true) : ''));
      box.appendChild(row);
    });
    box.hidden = list.length === 0;
    var pill = $('alert-count');
    pill.hidden = list.length === 0;
    text(pill, list.length + (list.length === 1 ? ' alert' : ' alerts'));
  }

  function loadAlerts() {
    return getJSON('api/v1/alerts').then(function (body) {
      var list = Array.isArray(body) ? body : body && Array.isArray(body.alerts) ? body.alerts : [];
      state.alerts = {};
      list.forEach(function (a) { if (a && a.rule && a.state !== 'cleared') state.alerts[alertKey(a)] = a; });
      renderAlerts();
    }).catch(function () { /* no alert list on this server: the stream still brings them */ });
  }

  /* ------------------------------------------------------------ devices */

  function pick(o, keys) {
    for (var i = 0; i < keys.length; i++) if (o[keys[i]] !== undefined && o[keys[i]] !== null) return o[keys[i]];
    return null;
  }

  function deviceState(d) {
    var up = pick(d, ['up', 'online']);
    var status = pick(d, ['status', 'state']);
    if (d.disabled === true && !(num(d.consecutive_failures) > 0)) return 'disabled';
    if (up === true || status === 'up' || status === 'ok') return 'up';
    return 'down';
  }

  /* A time given as RFC 3339, Unix ns, or seconds/milliseconds since the epoch. */
  function timeOf(v) {
    if (typeof v === 'string') { var t = Date.parse(v); return isNaN(t) ? null : t; }
    v = num(v);
    if (v === null || v <= 0) return null;
    if (v > 1e17) return v / 1e6;
    if (v > 1e14) return v / 1e3;
    if (v > 1e11) return v;
    return v * 1000;
  }

  function renderDevices() {
    var list = state.devices;
    if (!list) return;
    var rows = list.map(function (d) {
      return { d: d, st: deviceState(d), name: String(pick(d, ['name', 'instance', 'id']) || '?') };
    });
    var order = { down: 0, up: 1, disabled: 2 };
    rows.sort(function (a, b) { return order[a.st] - order[b.st] || a.name.localeCompare(b.name); });
    var body = $('devices').tBodies[0];
    body.textContent = '';
    var down = 0;
    /* Ages on the agent's clock (the demo's may run faster than the viewer's). */
    var dataNow = state.devicesNow !== null ? state.devicesNow :
      state.latest.instant ? Date.parse(state.latest.instant.to) : Date.now();
    rows.forEach(function (r) {
      var d = r.d;
      if (r.st === 'down') down++;
      var tr = el('tr', r.st === 'down' ? 'down' : '');
      tr.dataset.device = r.name;
      tr.dataset.state = r.st;
      tr.appendChild(el('td', '', r.name));
      tr.appendChild(el('td', 'muted', String(pick(d, ['type', 'collector']) || '')));
      var st = el('td');
      st.appendChild(el('span', 'state ' + r.st, r.st === 'down' ? 'offline' : r.st === 'up' ? 'online' : 'disabled'));
      tr.appendChild(st);
      var lastOk = timeOf(pick(d, ['last_seen', 'last_ok', 'last_ok_ns']));
      tr.appendChild(el('td', 'num', lastOk === null ? '\u2014' : ago(dataNow - lastOk)));
      var lat = num(pick(d, ['last_latency_ms', 'latency_ms']));
      if (lat === null) { var ns = num(d.last_latency_ns); lat = ns === null ? null : ns / 1e6; }
      tr.appendChild(el('td', 'num', lat === null ? '\u2014' : lat.toFixed(1) + ' ms'));
      var cf = num(d.consecutive_failures), tf = num(d.failures);
      tr.appendChild(el('td', 'num', cf === null && tf === null ? '\u2014' :
        (cf !== null && cf > 0 ? cf + ' now / ' : '') + (tf === null ? '\u2014' : tf)));
      tr.appendChild(el('td', 'err', r.st === 'down' ? String(pick(d, ['last_error', 'error']) || '') : ''));
      body.appendChild(tr);
    });
    if (!rows.length) {
      var tr = el('tr');
      var td = el('td', 'muted', 'No devices.');
      td.colSpan = 7;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    text($('dev-summary'), rows.length + ' \u00b7 ' + (down ? down + ' offline' : 'all online'));
  }

  function loadDevices() {
    return getJSON('api/v1/devices').then(function (body) {
      state.devices = Array.isArray(body) ? body : body && Array.isArray(body.devices) ? body.devices :
        body && Array.isArray(body.instances) ? body.instances : [];
      var now = body && typeof body.now === 'string' ? Date.parse(body.now) : NaN;
      state.devicesNow = isNaN(now) ? null : now;
      renderDevices();
    }).catch(function () { /* shown as it was; the next poll retries */ });
  }

  /* ------------------------------------------------------------ stream */

  function setConnected(on) {
    state.connected = on;
    var c = $('conn');
    c.className = 'pill ' + (on ? 'pill-live' : 'pill-off');
    text(c, on ? 'live' : 'reconnecting');
  }

  function parse(e) {
    try { return JSON.parse(e.data); } catch (err) { return null; }
  }

  function connect() {
    if (state.source) state.source.close();
    /* Every window's records and the alerts; the page does not need raw points. */
    var es = new EventSource('api/v1/events?window=all&points=0&alerts=1');
    state.source = es;
    var wasDown = true;
    es.onopen = function () {
      setConnected(true);
      state.retryMs = 1000;
      /* Whatever happened while away (alerts cleared, windows closed) comes from a fresh
       * snapshot, not from the stream. */
      if (wasDown) { wasDown = false; resync(); }
    };
    es.onerror = function () {
      setConnected(false);
      wasDown = true;
      /* The browser retries by itself unless the server refused the stream. */
      if (es.readyState === 2) {
        es.close();
        setTimeout(connect, state.retryMs);
        state.retryMs = Math.min(state.retryMs * 2, 30000);
      }
    };
    es.addEventListener('kpi', function (e) { handleRecord(parse(e)); });
    es.addEventListener('alert', function (e) { handleAlert(parse(e)); });
  }

  function loadKpi() {
    return getJSON('api/v1/kpi').then(applySnapshot).catch(function () {});
  }

  /* ------------------------------------------------------------ saved history */

  var SAVE_EVERY_MS = 30000;

  function storageKey() {
    var rec = state.latest.instant || state.latest['1m'];
    return rec && rec.site ? 'dcmetrics.power.' + rec.site : null;
  }

  function saveHistory() {
    var key = storageKey();
    if (!key) return;
    try {
      localStorage.setItem(key, JSON.stringify({
        v: 1, live: state.live.items, minutes: state.minutes.items, quarters: state.quarters.items
      }));
    } catch (e) { /* storage full or disabled: the chart just starts over after a reload */ }
  }

  /* Restores what this browser saved for the site, up to a day old (data time). */
  function restoreHistory() {
    var key = storageKey();
    if (!key || state.restored) return;
    state.restored = true;
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { saved = null; }
    if (!saved || saved.v !== 1) return;
    var now = Date.parse((state.latest.instant || state.latest['1m']).to);
    function valid(p) {
      return p && num(p.t) !== null && p.t <= now && now - p.t <= DAY;
    }
    [['live', state.live], ['minutes', state.minutes], ['quarters', state.quarters]].forEach(function (x) {
      (Array.isArray(saved[x[0]]) ? saved[x[0]] : []).forEach(function (p) {
        if (valid(p)) ringPut(x[1], { t: p.t, it: num(p.it), cooling: num(p.cooling), other: num(p.other), total: num(p.total) });
      });
    });
    queueChart();
  }

  function resync() {
    loadKpi();
    loadAlerts();
    loadDevices();
  }

  function renderAll() {
    renderLive();
    renderPeriods();
    renderCards();
    renderZones();
    renderAlerts();
    queueChart();
  }

  function init() {
    buildGauge();
    buildCards();
    Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (b) {
      b.addEventListener('click', function () {
        state.range = b.dataset.range;
        Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (o) {
          o.setAttribute('aria-selected', o === b ? 'true' : 'false');
        });
        drawChart();
      });
    });
    window.addEventListener('resize', queueChart);
    renderAll();
    loadKpi().then(restoreHistory);
    loadAlerts();
    loadDevices();
    connect();
    setInterval(loadDevices, DEVICES_EVERY_MS);
    setInterval(saveHistory, SAVE_EVERY_MS);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') saveHistory();
    });
    window.addEventListener('pagehide', saveHistory);
    /* Staleness is a matter of time passing: re-judge every second. */
    setInterval(function () {
      renderLive();
      if (state.devices) renderDevices();
    }, 1000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
