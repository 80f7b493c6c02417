'use strict';
// Draws bench/chart.svg from a results object: a grouped bar chart of the
// median operations per second (log scale) for C, R, U, D, one bar per peer,
// plus the in-process cold reads. Hand-written SVG, no dependencies.

const { summarize, OPS } = require('./report');

const COLORS = ['#1b7837', '#5aae61', '#762a83', '#9970ab', '#d6604d', '#f4a582', '#4393c3', '#878787'];

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function short(x) {
  const f = (v, d) => v.toFixed(d).replace(/\.0$/, '');
  if (x >= 1e6) return `${f(x / 1e6, x >= 1e7 ? 0 : 1)}M`;
  if (x >= 1e3) return `${f(x / 1e3, x >= 1e4 ? 0 : 1)}k`;
  return `${Math.round(x)}`;
}

function renderChart(results) {
  const s = results.summary || summarize(results);
  const peers = results.peers.filter((p) => p.status === 'ok');
  const groups = OPS.map((op) => ({
    label: op,
    bars: peers.map((p) => (s.medians[p.id][op] ? s.medians[p.id][op].ops_per_sec : null)),
  }));
  const values = groups.flatMap((g) => g.bars).filter((v) => v !== null && v > 0);
  const W = 1000;
  const H = 520;
  const left = 70;
  const right = 20;
  const top = 96;
  const bottom = 64;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const m = results.meta;
  const o = results.options;
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="18" font-weight="bold">crudjt vs session stores and JWTs: operations per second (log scale, higher is better)</text>`);
  out.push(`<text x="${W / 2}" y="44" text-anchor="middle" font-size="12" fill="#444">${esc(`${o.ops.toLocaleString('en-US')} ops per function, median of ${o.runs} run(s), one call awaited at a time (Redis, 64 in flight: pipelined); ${m.cpu_model} x ${m.cpu_count}, Node ${m.node}, ${m.date.slice(0, 10)}`)}</text>`);
  // Legend.
  let lx = left;
  const ly = 66;
  peers.forEach((p, k) => {
    const w = 22 + p.label.length * 6.6;
    if (lx + w > W - right) return;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[k % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}" font-size="12">${esc(p.label)}</text>`);
    lx += w + 10;
  });
  if (!values.length) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="16">no results</text></svg>`);
    return out.join('\n') + '\n';
  }
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)) + 0.15);
  const y = (v) => top + ph - ((Math.log10(v) - lo) / (hi - lo)) * ph;
  // Grid and axis labels at 1, 2, 5 per decade.
  for (let d = lo; d <= hi; d++) {
    for (const f of [1, 2, 5]) {
      const v = f * 10 ** d;
      if (Math.log10(v) > hi + 1e-9) continue;
      const yy = y(v).toFixed(1);
      const major = f === 1;
      out.push(`<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" stroke="${major ? '#bbb' : '#e6e6e6'}" stroke-width="1"/>`);
      if (major || hi - lo <= 3) out.push(`<text x="${left - 6}" y="${+yy + 4}" text-anchor="end" font-size="11" fill="${major ? '#222' : '#888'}">${short(v)}</text>`);
    }
  }
  out.push(`<text transform="translate(16 ${top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">ops/s</text>`);
  const gw = pw / groups.length;
  const inner = gw * 0.86;
  const bw = inner / Math.max(1, peers.length);
  groups.forEach((g, gi) => {
    const gx = left + gi * gw + (gw - inner) / 2;
    g.bars.forEach((v, k) => {
      const x = gx + k * bw;
      const color = COLORS[k % COLORS.length];
      if (v === null || !(v > 0)) {
        out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${top + ph - 6}" text-anchor="middle" font-size="12" fill="#999">X</text>`);
        return;
      }
      const yy = y(v);
      out.push(`<rect x="${(x + 1).toFixed(1)}" y="${yy.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(top + ph - yy).toFixed(1)}" fill="${color}"><title>${esc(`${peers[k].label} ${g.label}: ${Math.round(v).toLocaleString('en-US')} ops/s`)}</title></rect>`);
      out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(yy - 4).toFixed(1)}" text-anchor="middle" font-size="${bw < 26 ? 9 : 10}" fill="#222">${short(v)}</text>`);
    });
    out.push(`<text x="${(left + gi * gw + gw / 2).toFixed(1)}" y="${top + ph + 22}" text-anchor="middle" font-size="15" font-weight="bold">${g.label}</text>`);
  });
  out.push(`<line x1="${left}" x2="${W - right}" y1="${top + ph}" y2="${top + ph}" stroke="#222"/>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + ph}" stroke="#222"/>`);
  const notes = [];
  if (s.cold_read_seconds) notes.push(`crudjt cold reads: ${short(o.ops / s.cold_read_seconds)} ops/s`);
  if (s.disk) notes.push(`disk for ${results.disk.tokens.toLocaleString('en-US')} x ${results.disk.payload_bytes} B tokens: ${(s.disk.on_disk_bytes / 1e6).toFixed(1)} MB`);
  notes.push('X = not possible with a JWT');
  const skipped = results.peers.filter((p) => p.status !== 'ok').map((p) => `${p.label} skipped`);
  out.push(`<text x="${W / 2}" y="${H - 14}" text-anchor="middle" font-size="12" fill="#444">${esc(notes.concat(skipped).join('  ·  '))}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

module.exports = { renderChart };
