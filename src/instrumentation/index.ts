/**
 * Every instrumentation provenant enables at preload, in order, and the selection
 * PROVENANT_INSTRUMENT makes of them (in the spirit of OTEL_NODE_ENABLED_INSTRUMENTATIONS).
 */
import { DgramInstrumentation } from './dgram/index.js';
import { DnsInstrumentation } from './dns/index.js';
import { FsInstrumentation } from './fs.js';
import { Http2Instrumentation } from './http2/index.js';
import type { Instrumentation } from './instrumentation.js';
import { NetworkInstrumentation } from './net/index.js';
import { ProcessInstrumentation } from './process/index.js';
import { WorkerInstrumentation } from './worker/index.js';

/** Names a user may list. http, https and fetch are one part with net: they share its socket layer. */
const PART_OF: Readonly<Record<string, string>> = {
  fs: 'fs',
  net: 'net',
  http: 'net',
  https: 'net',
  fetch: 'net',
  dgram: 'dgram',
  udp: 'dgram',
  dns: 'dns',
  http2: 'http2',
  process: 'process',
  child_process: 'process',
  worker: 'worker',
  worker_threads: 'worker',
};

export const INSTRUMENTATION_NAMES: readonly string[] = Object.keys(PART_OF);

export function createInstrumentations(): Instrumentation[] {
  return [
    new FsInstrumentation(),
    new NetworkInstrumentation(),
    new DgramInstrumentation(),
    new DnsInstrumentation(),
    new Http2Instrumentation(),
    new ProcessInstrumentation(),
    new WorkerInstrumentation(),
  ];
}

export interface InstrumentationSelection {
  /** Parts to enable (all of them when nothing is listed). */
  readonly enabled: ReadonlySet<string>;
  /** Parts left out. */
  readonly omitted: readonly string[];
  /** Listed names that are no part. */
  readonly unknown: readonly string[];
}

/** `fs,http,fetch` → the parts those names select; an unset or empty list selects everything. */
export function selectInstrumentations(list: string | undefined): InstrumentationSelection {
  const all = [...new Set(Object.values(PART_OF))];
  const names = (list ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.length === 0) return { enabled: new Set(all), omitted: [], unknown: [] };
  const enabled = new Set<string>();
  const unknown: string[] = [];
  for (const name of names) {
    const part = PART_OF[name];
    if (part === undefined) unknown.push(name);
    else enabled.add(part);
  }
  return { enabled, omitted: all.filter((part) => !enabled.has(part)), unknown };
}
