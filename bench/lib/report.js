'use strict';
// Turns a results object (see bench/run.js) into medians, ratios and the
// markdown report printed on stdout and kept in bench/results.md.

const { median, min, max } = require('./stats');

const OPS = ['C', 'R', 'U', 'D'];
const DISK_TARGET_BYTES = 16 * 1000 * 1000; // "16 MB", decimal: the stricter reading
const SPEED_TARGET = 5;

function fmtSeconds(s) {
  if (s === null || s === undefined) return 'X';
  if (s < 0.01) return `${s.toFixed(4)} s`;
  return `${s.toFixed(3)} s`;
}

function fmtInt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return Math.round(x).toLocaleString('en-US');
}

function fmtRatio(x) {
  if (x === null || !Number.isFinite(x)) return 'n/a';
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(1)}x`;
}

function mb(bytes) {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

function summarize(results) {
  const ops = results.options.ops;
  const med = {};
  for (const p of results.peers) {
    med[p.id] = {};
    const c = results.crud[p.id] || {};
    for (const op of OPS) {
      const m = c[op] && c[op].length ? median(c[op]) : null;
      med[p.id][op] = m === null ? null : { seconds: m, ops_per_sec: ops / m, runs: c[op].length, min: min(c[op]), max: max(c[op]) };
    }
  }
  const ok = (id) => results.peers.some((p) => p.id === id && p.status === 'ok') && med[id];
  const redisIds = results.peers.filter((p) => p.id.startsWith('redis') && p.status === 'ok').map((p) => p.id);
  const bestRedis = {};
  for (const op of OPS) {
    let best = null;
    for (const id of redisIds) {
      const m = med[id][op];
      if (m && (best === null || m.seconds < best.seconds)) best = { id, seconds: m.seconds };
    }
    bestRedis[op] = best;
  }
  const ratios = [];
  const targets = [];
  const cj = ok('crudjt') ? med.crudjt : null;
  const fj = ok('fast-jwt') ? med['fast-jwt'] : null;
  const rowLabel = (id) => (results.peers.find((p) => p.id === id) || { label: id }).label;
  for (const [who, label] of [['crudjt', 'in-process'], ['crudjt-grpc', 'gRPC']]) {
    const m = ok(who) ? med[who] : null;
    if (!m) continue;
    for (const op of OPS) {
      if (!m[op]) continue;
      const br = bestRedis[op];
      if (br) {
        const r = br.seconds / m[op].seconds;
        const line = { who, op, vs: `best Redis row (${rowLabel(br.id)})`, ratio: r };
        if (who === 'crudjt' && op !== 'R') Object.assign(line, { target: SPEED_TARGET, met: r >= SPEED_TARGET });
        ratios.push(line);
      }
      if (fj) {
        const ref = op === 'R' ? fj.R : fj.C;
        if (ref) {
          const r = ref.seconds / m[op].seconds;
          const line = { who, op, vs: op === 'R' ? "fast-jwt's verify" : "fast-jwt's sign", ratio: r };
          if (who === 'crudjt') Object.assign(line, op === 'R' ? { target: 1, met: r > 1 } : { target: SPEED_TARGET, met: r >= SPEED_TARGET });
          ratios.push(line);
        }
      }
      void label;
    }
  }
  for (const r of ratios) if (r.target !== undefined) targets.push(r);
  let disk = null;
  if (results.disk && results.disk.samples && results.disk.samples.length) {
    const bytes = median(results.disk.samples.map((s) => s.on_disk_bytes));
    const apparent = median(results.disk.samples.map((s) => s.apparent_bytes));
    disk = { on_disk_bytes: bytes, apparent_bytes: apparent, target_bytes: DISK_TARGET_BYTES, met: bytes <= DISK_TARGET_BYTES };
  }
  const cold = results.cold && results.cold.length ? median(results.cold.map((c) => c.seconds)) : null;
  const badCounts = {};
  for (const p of results.peers) {
    const b = results.crud[p.id] && results.crud[p.id].bad;
    if (b && OPS.some((op) => b[op] > 0)) badCounts[p.id] = b;
  }
  return { medians: med, best_redis: bestRedis, ratios, targets, disk, cold_read_seconds: cold, wrong_answers: badCounts };
}

function renderMarkdown(results) {
  const s = results.summary || summarize(results);
  const m = results.meta;
  const o = results.options;
  const out = [];
  const n = o.ops.toLocaleString('en-US');
  const pl = results.payloads;
  out.push('## crudjt benchmark', '');
  out.push(`**${n}** operations per function, payloads **${pl.min_bytes}..${pl.max_bytes} bytes** of MessagePack (mean ${pl.mean_bytes}), median over **${o.runs}** run(s), each call awaited before the next  `);
  out.push(`${m.cpu_model}, ${m.cpu_count} cores, ${m.platform}, Node ${m.node}, ${m.date.slice(0, 10)}  `);
  const la = (x) => (x ? x.map((v) => v.toFixed(2)).join(' ') : 'n/a');
  out.push(`load average at start ${la(m.loadavg_start)}, at end ${la(m.loadavg_end)} (other work on the machine shows here)  `);
  const b = m.crudjt_build;
  if (b) {
    const dirty = b.uncommitted && b.uncommitted.length ? `, **${b.uncommitted.length} uncommitted file(s)** under lib/ src/ cpp/ proto/` : '';
    out.push(`crudjt measured: git ${m.git_commit}${dirty}; addon ${b.addon ? `${b.addon.path} (sha256 ${b.addon.sha256}, built ${b.addon.mtime.slice(11, 19)})` : 'unknown'}; dist/ built ${b.dist_index_mtime ? b.dist_index_mtime.slice(11, 19) : 'unknown'} UTC  `);
  }
  if (m.redis && m.redis.version) out.push(`Redis: ${m.redis.version.split(' ').slice(0, 3).join(' ')} on 127.0.0.1, appendonly yes + appendfsync everysec, RDB off; crudjt: write() per mutation + fsync every 500 ms  `);
  out.push('');
  const peers = results.peers;
  const shown = peers.filter((p) => p.status === 'ok');
  const header = `| Function | ${shown.map((p) => p.label).join(' | ')} |`;
  const sep = `|---|${shown.map(() => '---').join('|')}|`;
  out.push(`Seconds for ${n} operations (lower is better):`, '', header, sep);
  for (const op of OPS) {
    out.push(`| ${op} | ${shown.map((p) => (s.medians[p.id][op] ? fmtSeconds(s.medians[p.id][op].seconds) : 'X')).join(' | ')} |`);
  }
  const runsOf = (p) => (s.medians[p.id].C ? s.medians[p.id].C.runs : 0);
  if (shown.some((p) => runsOf(p) !== o.runs)) out.push(`| runs | ${shown.map((p) => runsOf(p)).join(' | ')} |`);
  out.push('', 'Operations per second (higher is better):', '', header, sep);
  for (const op of OPS) {
    out.push(`| ${op} | ${shown.map((p) => (s.medians[p.id][op] ? fmtInt(s.medians[p.id][op].ops_per_sec) : 'X')).join(' | ')} |`);
  }
  out.push('');
  out.push('X: a JWT cannot be updated or revoked.  ');
  for (const p of peers) if (p.status !== 'ok') out.push(`${p.label}: skipped: ${p.reason}  `);
  for (const p of shown) if (results.crud[p.id].runs_capped) out.push(`${p.label}: ${results.crud[p.id].runs_capped}  `);
  for (const [id, b] of Object.entries(s.wrong_answers)) out.push(`**${id}: wrong answers** ${OPS.map((op) => `${op} ${b[op]}`).join(', ')}  `);
  out.push('');
  out.push('Rows: ' + shown.map((p) => `*${p.label}*: ${p.note}`).join('; ') + '.', '');

  out.push('### Ratios', '');
  if (!s.ratios.length) out.push('n/a: ' + ((peers.find((p) => p.id === 'crudjt') || {}).reason || 'crudjt did not run'));
  for (const r of s.ratios) {
    const who = r.who === 'crudjt' ? 'in-process' : 'gRPC';
    const faster = r.ratio >= 1 ? `${fmtRatio(r.ratio)} faster than` : `${fmtRatio(1 / r.ratio)} slower than`;
    let t = '';
    if (r.target !== undefined) t = r.target === 1 ? ` (target: faster: **${r.met ? 'met' : 'MISSED'}**)` : ` (target >= ${r.target}x: **${r.met ? 'met' : 'MISSED'}**)`;
    out.push(`- ${who} ${r.op} is ${faster} ${r.vs}${t}`);
  }
  out.push('');

  if (s.cold_read_seconds !== null) {
    const hot = s.medians.crudjt && s.medians.crudjt.R;
    out.push('### Cold reads (in-process)', '');
    out.push(`create ${n}, create ${n} more, then read the first ${n}: **${fmtSeconds(s.cold_read_seconds)}** (${fmtInt(o.ops / s.cold_read_seconds)} ops/s)` + (hot ? `; R right after C in the table: ${fmtSeconds(hot.seconds)}` : ''), '');
  }
  if (results.disk) {
    out.push('### Disk', '');
    if (s.disk) {
      const sm = results.disk.samples;
      out.push(`${results.disk.tokens.toLocaleString('en-US')} tokens of ${results.disk.payload_bytes} bytes, after shutdownServer (median of ${sm.length}): **${mb(s.disk.on_disk_bytes)}** on disk (${mb(s.disk.apparent_bytes)} apparent) — target <= ${mb(s.disk.target_bytes)}: **${s.disk.met ? 'met' : 'MISSED'}**  `);
      const files = sm[sm.length - 1].files.map((f) => `${f.name} ${mb(f.on_disk)}`).join(', ');
      out.push(`files: ${files}  `);
    } else out.push(`skipped: ${results.disk.error}  `);
    const c = results.churn;
    if (c) {
      out.push(`churn: ${c.live.toLocaleString('en-US')} live tokens, then ${c.cycles.toLocaleString('en-US')} cycles of create one + delete the oldest: **${mb(c.before.on_disk_bytes)} -> ${mb(c.after.on_disk_bytes)}** on disk after shutdown (${mb(c.before.apparent_bytes)} -> ${mb(c.after.apparent_bytes)} apparent), ${fmtInt(c.ops_per_sec)} ops/s in-process${c.bad_deletes ? `, ${c.bad_deletes} deletes answered false` : ''}  `);
      const pages = (du) => du.files.filter((f) => /\.pages$/.test(f.name)).reduce((a, f) => a + f.size, 0);
      out.push(`page file alone: ${mb(pages(c.before))} -> ${mb(pages(c.after))}  `);
      if (c.trend && c.trend.length) out.push(`while churning (no shutdown; page file + log), by cycles: ${c.trend.map((t) => `${(t.cycles / 1000).toFixed(0)}k ${mb(t.pages_bytes)} + ${mb(t.log_bytes)}`).join(', ')}  `);
    }
    out.push('');
  }
  if (results.throughput && results.throughput.length) {
    out.push(`### gRPC throughput (ops/s, ${(o.tput_ops || o.ops).toLocaleString('en-US')} ops per cell split over the client processes, median of ${o.tput_runs})`, '');
    out.push('| clients | in flight per client | C | R | D |', '|---|---|---|---|---|');
    const rows = new Map();
    for (const c of results.throughput) {
      const k = `${c.clients}:${c.inflight}`;
      if (!rows.has(k)) rows.set(k, { clients: c.clients, inflight: c.inflight });
      rows.get(k)[c.op] = median(c.ops_per_sec);
      if (c.bad) rows.get(k).bad = (rows.get(k).bad || 0) + c.bad;
    }
    for (const r of rows.values()) out.push(`| ${r.clients} | ${r.inflight} | ${fmtInt(r.C)} | ${fmtInt(r.R)} | ${fmtInt(r.D)} |${r.bad ? ` ${r.bad} wrong answers` : ''}`);
    if (results.grpc_noop && results.grpc_noop.length) {
      for (const b of results.grpc_noop) out.push(`| 1 | ${b.inflight} | reference: plain unary grpc-js calls to a no-op ReadToken: ${fmtInt(median(b.ops_per_sec))} calls/s | | |`);
    }
    out.push('', 'The master is the bench process (one Node thread); the clients are separate processes on the same 2 cores. The reference rows are plain @grpc/grpc-js unary calls (one RPC per call) to handlers that answer at once: what the transport costs per unary call on this machine.', '');
  } else if (results.throughput_error) {
    out.push('### gRPC throughput', '', `skipped: ${results.throughput_error}`, '');
  }
  if (results.cluster && results.cluster.rows) {
    const { renderRows } = require('../cluster');
    out.push('### Redis Cluster backend (3 masters on loopback)', '');
    out.push('crudjt.connectToCluster through its public API (keyed-hash keys, sealed records; a read is one GET, or one Lua script for tokens with a read limit) beside a plain ioredis session store (SET PX / GET / SET XX / DEL, MessagePack packed and decoded on both sides) on the same cluster, create/read/update/delete, the two run interleaved phase by phase; µs per op from the slowest process.', '');
    out.push(renderRows(results.cluster.rows), '');
  }
  if (results.errors && results.errors.length) {
    out.push('### Errors', '');
    for (const e of results.errors) out.push(`- ${e.section}: ${e.error}`);
    out.push('');
  }
  if (m.duration_seconds) out.push(`_Bench took ${m.duration_seconds} s; every sample is in bench/results.json._`, '');
  return out.join('\n');
}

module.exports = { summarize, renderMarkdown, fmtSeconds, fmtInt, OPS };
