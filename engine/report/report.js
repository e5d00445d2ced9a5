/* SuperBot HTML report: zoom detail, price-axis rescale, trade table sort and filter.
 *
 * Vanilla JS, no network: the page stays one self-contained file.
 * 1. Every chart rescales its y axes to the visible x range on zoom and pan
 *    (plotly's own autorange spans the whole history, so a zoomed candle chart
 *    would be a flat line).
 * 2. A chart drawn from downsampled candles carries its full-detail series in a
 *    <script type="application/json" id="detail-DIV"> block (base64 float64).
 *    On zoom, the series of the visible range (plus a tenth of a screen either side)
 *    are resampled in the browser to the finest timeframe that keeps at most
 *    `max_points` candles, with the same rules as engine/report/downsample.py:
 *    exact OHLC, lines at each bucket's last bar, drawdown at its minimum.
 *    Zooming back out restores the overview the page opened with.
 * 3. The trade table sorts on a header click and filters on every word typed.
 * 4. Charts come as JSON and are drawn by this script: those in view at once,
 *    the others one per idle period (or when scrolled to, or before printing),
 *    so a long report is usable as soon as its first screen is drawn.
 */
(function () {
  'use strict';

  function decode(b64, Type) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }

  function toMs(v) {
    if (typeof v === 'number') return v;
    if (v === null || v === undefined || v === '') return NaN;
    const s = String(v).replace(' ', 'T');
    return Date.parse(/Z|[+-]\d\d:?\d\d$/.test(s) ? s : s + 'Z');
  }

  const numericX = new WeakMap();  // x array -> Float64Array of ms
  function xs(trace) {
    const x = trace.x;
    if (!x) return null;
    let out = numericX.get(x);
    if (!out) {
      out = Float64Array.from(x, toMs);
      numericX.set(x, out);
    }
    return out;
  }

  function lowerBound(a, v) {
    let lo = 0, hi = a.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] < v) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // 1. y axes fitted to the visible x range.
  function fitY(gd, x0, x1) {
    const extent = {};
    for (const trace of gd.data) {
      if (trace.visible === false || trace.visible === 'legendonly') continue;
      const t = xs(trace);
      if (!t) continue;
      const axis = 'yaxis' + (trace.yaxis && trace.yaxis !== 'y' ? trace.yaxis.slice(1) : '');
      const e = extent[axis] || (extent[axis] = [Infinity, -Infinity]);
      const lows = trace.type === 'candlestick' ? trace.low : trace.y;
      const highs = trace.type === 'candlestick' ? trace.high : trace.y;
      if (!lows) continue;
      for (let i = 0; i < t.length; i++) {
        if (!(t[i] >= x0 && t[i] <= x1)) continue;
        const lo = +lows[i], hi = +highs[i];
        if (lo < e[0]) e[0] = lo;
        if (hi > e[1]) e[1] = hi;
      }
      if (trace.type === 'bar') { e[0] = Math.min(e[0], 0); e[1] = Math.max(e[1], 0); }
    }
    const update = {};
    for (const [axis, [lo, hi]] of Object.entries(extent)) {
      if (!(hi >= lo) || !isFinite(lo) || !isFinite(hi)) continue;
      const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.01 || 1;
      update[axis + '.range'] = [lo - pad, hi + pad];
      update[axis + '.autorange'] = false;
    }
    return update;
  }

  // 2. Full detail on zoom.
  function bucketize(time, a, b, bucket) {
    const starts = [];
    let key = NaN;
    for (let i = a; i < b; i++) {
      const k = Math.floor(time[i] / bucket);
      if (k !== key) { starts.push(i); key = k; }
    }
    return starts;
  }

  function resample(kind, values, starts, b) {
    const out = new Array(starts.length);
    for (let j = 0; j < starts.length; j++) {
      const s = starts[j], e = j + 1 < starts.length ? starts[j + 1] : b;
      if (kind === 'first') { out[j] = values[s]; continue; }
      if (kind === 'last') { out[j] = values[e - 1]; continue; }
      let m = NaN;
      for (let i = s; i < e; i++) {
        const v = values[i];
        if (v === v && (m !== m || (kind === 'max' ? v > m : v < m))) m = v;
      }
      out[j] = m;
    }
    return out;
  }

  function Detail(gd, spec) {
    this.gd = gd;
    this.spec = spec;
    this.data = null;          // decoded on the first zoom, then kept
    const kept = ['x', 'y', 'open', 'high', 'low', 'close', 'marker'];
    this.overview = gd.data.map(t => Object.fromEntries(kept.filter(k => t[k] !== undefined)
                                                            .map(k => [k, t[k]])));
    this.shown = spec.overview_ms;
  }

  Detail.prototype.decode = function () {
    if (this.data) return this.data;
    const raw = JSON.parse(document.getElementById('detail-' + this.gd.id).textContent);
    const series = {};
    for (const [k, v] of Object.entries(raw.series)) series[k] = decode(v, Float32Array);
    let time;
    if (typeof raw.time === 'string') time = decode(raw.time, Float64Array);
    else {  // a regular clock: start + i * step
      time = new Float64Array(raw.time.n);
      for (let i = 0; i < time.length; i++) time[i] = raw.time.start + i * raw.time.step;
    }
    this.data = {time: time, series: series};
    return this.data;
  };

  Detail.prototype.bucketFor = function (span) {
    for (const ms of this.spec.timeframes) if (span / ms <= this.spec.max_points) return ms;
    return this.spec.overview_ms;
  };

  // Sets gd.data for [x0, x1]; true when the data changed.
  Detail.prototype.show = function (x0, x1) {
    const bucket = x0 === null ? this.spec.overview_ms : this.bucketFor(x1 - x0);
    if (bucket >= this.spec.overview_ms) {
      if (this.shown === this.spec.overview_ms) return false;
      this.gd.data.forEach((t, i) => Object.assign(t, this.overview[i]));
      this.shown = this.spec.overview_ms;
      this.retitle();
      return true;
    }
    const d = this.decode(), time = d.time, span = x1 - x0;
    // a tenth of a screen either side: a short pan shows candles at once; the
    // relayout at the end of a pan redraws the rest (more would cost every zoom)
    const a = lowerBound(time, x0 - span / 10), b = lowerBound(time, x1 + span / 10);
    const starts = bucketize(time, a, b, bucket);
    const bar = this.spec.bar_ms;
    const centre = starts.map(s => Math.floor(time[s] / bucket) * bucket + bucket / 2);
    const close = starts.map((s, j) => time[(j + 1 < starts.length ? starts[j + 1] : b) - 1] + bar);
    for (const t of this.gd.data) {
      const tr = t.meta && t.meta.detail ? t.meta : null;
      if (!tr) continue;  // trade markers keep their exact times and prices
      if (tr.detail === 'ohlc') {
        const s = d.series;
        Object.assign(t, {x: centre, open: resample('first', s.open, starts, b),
                          high: resample('max', s.high, starts, b),
                          low: resample('min', s.low, starts, b),
                          close: resample('last', s.close, starts, b)});
      } else {
        let y = resample(tr.detail, d.series[tr.key], starts, b);
        if (tr.scale) y = y.map(v => v * tr.scale);
        Object.assign(t, {x: close, y: y});
        if (tr.colors) {  // a histogram: bars coloured by sign
          t.marker = Object.assign({}, t.marker, {color: y.map(v => v >= 0 ? tr.colors[0]
                                                                            : tr.colors[1])});
        }
      }
    }
    this.shown = bucket;
    this.retitle();
    return true;
  };

  Detail.prototype.retitle = function () {
    const spec = this.spec, title = this.gd.layout.title;
    if (!spec.title || !title) return;
    const label = spec.labels[String(this.shown)] || '';
    const text = spec.title + ' · ' + label +
      (this.shown === spec.overview_ms ? ' (zoom in for detail)' : '');
    this.gd.layout.title = Object.assign({}, title, {text: text});
  };

  function xRange(gd, ev) {
    if (Object.keys(ev).some(k => /^xaxis\d*\.autorange$/.test(k) && ev[k])) return null;
    let r = null;
    for (const k of Object.keys(ev)) {
      const m = /^(xaxis\d*)\.range(\[0\])?$/.exec(k);
      if (!m) continue;
      r = m[2] ? [ev[k], ev[m[1] + '.range[1]']] : ev[k];
    }
    if (!r) return undefined;  // not an x zoom (e.g. our own y update)
    return [toMs(r[0]), toMs(r[1])];
  }

  const pending = new WeakMap();  // gd -> promise of the last zoom's redraw

  function redraw(gd) {  // new arrays in gd.data: a new datarevision makes plotly recompute
    gd.layout.datarevision = (gd.layout.datarevision || 0) + 1;
    return Plotly.react(gd, gd.data, gd.layout);
  }

  function attach(gd) {
    const specNode = document.getElementById('detail-spec-' + gd.id);
    const detail = specNode ? new Detail(gd, JSON.parse(specNode.textContent)) : null;
    gd.on('plotly_relayout', function (ev) {
      const r = xRange(gd, ev);
      if (r === undefined) return;
      const job = (async () => {
        if (r === null) {  // back to the whole chart
          if (detail && detail.show(null, null)) await redraw(gd);
          const [x0, x1] = gd._fullLayout.xaxis.range.map(toMs);
          const update = fitY(gd, x0, x1);
          if (Object.keys(update).length) await Plotly.relayout(gd, update);
          return;
        }
        const [x0, x1] = r;
        const swapped = detail && detail.show(x0, x1);
        const update = fitY(gd, x0, x1);
        if (swapped) {  // new data and fitted axes in one redraw
          for (const [key, value] of Object.entries(update)) {
            const [axis, attr] = key.split('.');
            gd.layout[axis] = Object.assign({}, gd.layout[axis], {[attr]: value});
          }
          await redraw(gd);
        } else if (Object.keys(update).length) {
          await Plotly.relayout(gd, update);
        }
      })();
      pending.set(gd, job);
    });
  }

  // 3. The trade table.
  function tradeTable(table) {
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const input = document.getElementById('trade-filter');
    const count = document.getElementById('trade-count');
    const keys = rows.map(r => (r.dataset.k + ' ' + r.textContent).toLowerCase());
    let order = rows.slice();
    Array.from(table.tHead.rows[0].cells).forEach((th, col) => {
      th.addEventListener('click', () => {
        const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
        Array.from(th.parentNode.cells).forEach(c => { delete c.dataset.dir; });
        th.dataset.dir = dir;
        const value = r => {
          const cell = r.cells[col];
          return cell.dataset.v !== undefined ? parseFloat(cell.dataset.v) : cell.textContent;
        };
        const sign = dir === 'asc' ? 1 : -1;
        order = rows.slice().sort((a, b) => {
          const va = value(a), vb = value(b);
          return sign * (typeof va === 'number' ? va - vb : String(va).localeCompare(vb));
        });
        const frag = document.createDocumentFragment();
        order.forEach(r => frag.appendChild(r));
        body.appendChild(frag);
      });
    });
    if (input) {
      input.addEventListener('input', () => {
        const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        let shown = 0;
        rows.forEach((r, i) => {
          const ok = words.every(w => keys[i].includes(w));
          r.hidden = !ok;
          shown += ok;
        });
        if (count) count.textContent = shown.toLocaleString('en-US') + ' of ' +
          rows.length.toLocaleString('en-US') + ' trades';
      });
    }
  }

  // 4. Charts are drawn from their JSON: those in view first, the others while idle.
  const drawn = new Map();  // placeholder div -> promise of its plot
  function draw(div) {
    if (!drawn.has(div)) {
      const fig = JSON.parse(document.getElementById('figure-' + div.id).textContent);
      const config = window.SUPERBOT_PLOT_CONFIG || {};
      drawn.set(div, Plotly.newPlot(div, fig.data, fig.layout, config).then(gd => {
        attach(gd);
        return gd;
      }));
    }
    return drawn.get(div);
  }

  // idle time, or 100 ms at the latest (a busy or headless page may never be idle)
  const idle = window.requestIdleCallback ? fn => window.requestIdleCallback(fn, {timeout: 100})
                                          : fn => setTimeout(fn, 30);
  let readyResolve, allResolve;
  const ready = new Promise(r => { readyResolve = r; });
  const all = new Promise(r => { allResolve = r; });

  function init() {
    const plots = Array.from(document.querySelectorAll('.lazy-plot'));
    const margin = 300;
    const inView = div => {
      const r = div.getBoundingClientRect();
      return r.bottom > -margin && r.top < window.innerHeight + margin;
    };
    Promise.all(plots.filter(inView).map(draw)).then(readyResolve);
    if ('IntersectionObserver' in window) {
      const seen = new IntersectionObserver(entries => entries.forEach(e => {
        if (e.isIntersecting) { draw(e.target); seen.unobserve(e.target); }
      }), {rootMargin: margin + 'px'});
      plots.forEach(div => seen.observe(div));
    }
    let next = 0;
    const step = () => {  // one chart per idle period, in page order
      while (next < plots.length && drawn.has(plots[next])) next++;
      if (next >= plots.length) { Promise.all(plots.map(draw)).then(allResolve); return; }
      draw(plots[next]).then(() => idle(step));
    };
    ready.then(() => idle(step));
    window.addEventListener('beforeprint', () => plots.forEach(draw));
    const table = document.getElementById('trade-table');
    if (table) tradeTable(table);
  }

  window.superbotReport = {
    ready: ready,      // the charts in view are drawn
    all: all,          // every chart is drawn
    draw: id => draw(document.getElementById(id)),
    settled: gd => pending.get(gd) || Promise.resolve(),
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
