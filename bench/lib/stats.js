'use strict';
// Small numeric helpers shared by the runner and the report.

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function min(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? Math.min(...v) : null;
}

function max(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
}

/** Seconds since `t0` (a process.hrtime.bigint()). */
function since(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Wall-clock milliseconds comparable across processes on one host. */
function wallMs() {
  return performance.timeOrigin + performance.now();
}

/**
 * Runs op(0..n-1) awaited one at a time; returns seconds and the number of
 * calls whose result `ok` rejected.
 */
async function timeSequential(n, op, ok) {
  let bad = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = await op(i);
    if (ok && !ok(r)) bad++;
  }
  return { seconds: since(t0), bad };
}

/**
 * Runs op(0..n-1) with `inflight` calls outstanding at any time (each of
 * `inflight` loops awaits its own call before taking the next index).
 */
async function timeConcurrent(n, inflight, op, ok) {
  let bad = 0;
  let nextIndex = 0;
  const t0 = process.hrtime.bigint();
  async function lane() {
    for (;;) {
      const i = nextIndex++;
      if (i >= n) return;
      const r = await op(i);
      if (ok && !ok(r)) bad++;
    }
  }
  const lanes = [];
  for (let k = 0; k < Math.min(inflight, n); k++) lanes.push(lane());
  await Promise.all(lanes);
  return { seconds: since(t0), bad };
}

module.exports = { median, min, max, since, wallMs, timeSequential, timeConcurrent };
