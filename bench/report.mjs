// Shared by every bench script: one machine-readable line of result rows that bench/run.mjs
// gathers into a single table. A row compares plain Node, OpenTelemetry's own instrumentation
// (where one exists) and provenant on the same operation; `better` says which direction wins.
export const ROWS_PREFIX = 'BENCH_ROWS ';

/**
 * @param {Array<{ bench: string, metric: string, unit: string, better: 'higher' | 'lower',
 *   plain?: number, otel?: number, provenant: number, target?: string }>} rows
 */
export function reportRows(rows) {
  console.log(ROWS_PREFIX + JSON.stringify(rows));
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `median (min–max)` with `digits` decimals; just the value when there is one. */
export function spread(values, digits) {
  const text = (value) => value.toFixed(digits);
  if (values.length === 1) return text(values[0]);
  return `${text(median(values))} (${text(Math.min(...values))}–${text(Math.max(...values))})`;
}

/** The environment for a bench child: no OTEL_*, PROVENANT_* or NODE_OPTIONS of the caller's leaking in. */
export function withoutTelemetryEnv(env = process.env) {
  const out = {};
  for (const [key, value] of Object.entries(env))
    if (!key.startsWith('OTEL_') && !key.startsWith('PROVENANT_') && key !== 'NODE_OPTIONS') out[key] = value;
  return out;
}
