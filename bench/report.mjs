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
