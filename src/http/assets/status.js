// pgvitals status page: turns the server-rendered table into live cards. Reads only this
// origin's JSON (/debug/status, /debug/history), resolved against location.origin: a page
// opened with credentials in its address (user:pass@host) would lend them to a relative URL,
// and fetch() refuses such a URL; the browser sends the page's basic-auth credentials to its own
// origin anyway. Every text goes in through textContent.
'use strict';

(function () {
  const POLL_MS = 5000;
  const RANK = { down: 0, unknown: 1, up: 2 };
  const cards = new Map();
  let histories = {};
  let lastStatus = null;

  const byId = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function ms(seconds) {
    if (seconds === null || seconds === undefined) return '-';
    return seconds < 1 ? (seconds * 1000).toFixed(2) + ' ms' : seconds.toFixed(2) + ' s';
  }

  function duration(seconds) {
    if (seconds < 120) return seconds.toFixed(1) + ' s';
    if (seconds < 7200) return (seconds / 60).toFixed(1) + ' min';
    return (seconds / 3600).toFixed(1) + ' h';
  }

  function clock(unix) {
    return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function fill(list, items, render) {
    list.replaceChildren(...items.map((item) => el('li', '', render(item))));
  }

  // Latency as a line over the upper part, availability as a strip below it.
  function drawChart(svg, h) {
    const latency = h ? h.latency : [];
    const up = h ? h.up : [];
    const n = up.length;
    const w = 120;
    const step = n > 0 ? w / n : w;
    const max = Math.max(0, ...latency.filter((v) => v !== null)) || 1;
    let line = '';
    let pen = false;
    latency.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      const x = ((i + 0.5) * step).toFixed(1);
      const y = (25 - (v / max) * 23).toFixed(1);
      line += (pen ? 'L' : 'M') + x + ' ' + y + ' ';
      pen = true;
    });
    let ups = '';
    let downs = '';
    up.forEach((v, i) => {
      const seg = 'M' + (i * step).toFixed(1) + ' 30 H' + ((i + 1) * step).toFixed(1) + ' ';
      if (v) ups += seg;
      else downs += seg;
    });
    svg.querySelector('.lat').setAttribute('d', line.trim());
    svg.querySelector('.ups').setAttribute('d', ups.trim());
    svg.querySelector('.downs').setAttribute('d', downs.trim());
    svg.dataset.points = String(n);
  }

  function makeCard(name) {
    const root = byId('card-template').content.firstElementChild.cloneNode(true);
    root.dataset.target = name;
    const link = root.querySelector('.name');
    link.textContent = name;
    link.href = '/healthz/' + encodeURIComponent(name) + '?verbose';
    cards.set(name, root);
    return root;
  }

  function meter(root, cls, ratio, text) {
    const m = root.querySelector('meter.' + cls);
    m.value = ratio === null ? 0 : Math.min(1, ratio);
    m.hidden = ratio === null;
    root.querySelector('.' + cls + '-text').textContent = text;
  }

  function updateCard(t) {
    const root = cards.get(t.name) || makeCard(t.name);
    root.className = 'card ' + t.state;
    root.dataset.state = t.state;
    const state = root.querySelector('.state');
    state.className = 'state ' + t.state;
    state.textContent = t.state;
    state.title = t.detail || '';
    root.querySelector('.role').textContent = t.role + (t.required ? '' : ' (not required)');
    root.querySelector('.latency .value').textContent = ms(t.latency);
    drawChart(root.querySelector('svg.spark'), histories[t.name]);
    const sat = t.saturation;
    meter(root, 'saturation', sat, sat === null ? '-' : Math.round(sat * 100) + '% of slots');
    const p = t.pool;
    meter(root, 'pool', p.max > 0 ? p.in_use / p.max : null,
      p.in_use + '/' + p.max + ' in use, ' + p.idle + ' idle' +
      (p.waiting > 0 ? ', ' + p.waiting + ' waiting' : ''));
    const incident = root.querySelector('.incident');
    incident.replaceChildren();
    if (t.incident) {
      const a = el('a', '', 'open incident ' + t.incident);
      a.href = '/debug/incidents/' + encodeURIComponent(t.incident);
      incident.append(a);
    }
    const a = t.activity;
    fill(root.querySelector('.oldest'), a ? a.oldest_transactions : [], (s) =>
      'pid ' + s.pid + ' ' + (s.application || '-') + ' (' + (s.user || '-') + ', ' + s.state +
      '): ' + duration(s.transaction_seconds));
    fill(root.querySelector('.blocked'), a ? a.blocked : [], (b) =>
      'pid ' + b.pid + ' blocked by ' + b.blocked_by.join(', '));
    root.querySelector('.sessions').hidden = !a || (a.oldest_transactions.length === 0 && a.blocked.length === 0);
    fill(root.querySelector('.failures ul'), t.failures, (f) =>
      clock(f.time) + ' ' + f.probe + '/' + f.phase + ' ' + f.reason + ': ' + f.message);
    root.querySelector('.failures').hidden = t.failures.length === 0;
    return root;
  }

  function renderIncidents(incidents) {
    const all = incidents.open.concat(incidents.recent);
    const box = byId('incident-list');
    if (all.length === 0) {
      box.replaceChildren(el('p', 'none', 'No incidents recorded.'));
      return;
    }
    const list = el('ul', 'incidents');
    for (const i of all) {
      const li = el('li', i.open ? 'open' : 'closed');
      const a = el('a', '', i.id);
      a.href = '/debug/incidents/' + encodeURIComponent(i.id);
      li.append(a, ' ', el('span', 'state ' + (i.open ? 'down' : 'up'), i.open ? 'open' : 'closed'),
        ' ' + i.target + ', ' + i.trigger + ', opened ' + clock(i.opened) +
        (i.open ? '' : ', closed ' + clock(i.closed)));
      if (i.first_error) li.append(' ', el('span', 'detail', i.first_error));
      list.append(li);
    }
    box.replaceChildren(list);
  }

  function applyFilter() {
    const state = byId('filter-state').value;
    const q = byId('filter-q').value.trim().toLowerCase();
    let shown = 0;
    for (const [name, root] of cards) {
      const visible = (!state || root.dataset.state === state) &&
        (!q || name.toLowerCase().includes(q));
      root.hidden = !visible;
      if (visible) shown++;
    }
    byId('shown').textContent = shown + ' of ' + cards.size + ' shown';
    const params = new URLSearchParams();
    if (state) params.set('state', state);
    if (q) params.set('q', byId('filter-q').value.trim());
    // Keep the filter in the address, so a reload or a shared link shows the same view.
    const search = params.toString() ? '?' + params.toString() : '';
    if (search !== location.search) {
      try {
        history.replaceState(null, '', location.pathname + search);
      } catch (e) {
        // A page whose URL carries credentials may refuse; the filter still applies.
      }
    }
  }

  function render(status) {
    const names = new Set(status.targets.map((t) => t.name));
    for (const [name, root] of cards) {
      if (!names.has(name)) {
        root.remove();
        cards.delete(name);
      }
    }
    const sorted = status.targets.slice().sort((x, y) =>
      RANK[x.state] - RANK[y.state] || (x.name < y.name ? -1 : 1));
    const box = byId('cards');
    for (const t of sorted) box.append(updateCard(t));
    renderIncidents(status.incidents);
    const c = status.counts;
    byId('summary').textContent = c.targets + ' targets: ' + c.up + ' up, ' + c.down + ' down, ' +
      (c.targets - c.up - c.down) + ' without a result yet';
    byId('updated').textContent = clock(status.time);
    document.documentElement.classList.add('live');
    applyFilter();
  }

  async function getJson(path) {
    const r = await fetch(new URL(path, location.origin), {
      cache: 'no-store',
      credentials: 'same-origin',
    });
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
    return r.json();
  }

  async function refresh() {
    try {
      const [status, history] = await Promise.all([
        getJson('/debug/status'),
        getJson('/debug/history').catch(() => ({ targets: {} })),
      ]);
      histories = history.targets;
      lastStatus = status;
      render(status);
      document.documentElement.classList.remove('stale');
    } catch (e) {
      document.documentElement.classList.add('stale');
      byId('updated').textContent = 'update failed (' + e.message + '); showing the last answer';
    }
  }

  function start() {
    const form = byId('filters');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      applyFilter();
    });
    byId('filter-state').addEventListener('change', applyFilter);
    byId('filter-q').addEventListener('input', applyFilter);
    refresh();
    setInterval(() => {
      if (!document.hidden || lastStatus === null) refresh();
    }, POLL_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
