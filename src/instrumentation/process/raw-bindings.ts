/**
 * `process.binding(name)`, Node's deprecated door (DEP0111) to its raw bindings, beneath every
 * patch. Node 22 and 24 serve a fixed allowlist; what each binding there can do, checked on both:
 * - refused in enforce mode, as they move bytes or start processes with no mediated API in the way:
 *   `fs` (raw opens, reads, writes, renames), `spawn_sync` and `process_wrap` (processes without
 *   `child_process`), `fs_event_wrap` (names from a file system watch, read unrecorded), and
 *   `async_wrap` (Node 22: popping or clearing the async context, or replacing its promise hooks,
 *   would let a labelled context write as a clean one).
 * - a view without the raw members: `inspector` (its connections and `open`), `cares_wrap` (its
 *   queries and lookups: a name carries data to the resolver), `v8` (Node 22: `setFlagsFromString`,
 *   which would turn natives syntax on past the `v8` module's guard, and the near-heap-limit
 *   snapshot, which writes the heap to a file).
 * - as Node serves them: the handle bindings, whose handles' writes and opens are locked where
 *   the handle is (net/socket-locks and the UDP lock), and the bindings that do no I/O.
 * A binding Node serves that is in none of these lists (a later Node) is refused too: unchecked is
 * not allowed. Audit mode serves every binding as Node does, with one stderr line the first time
 * each one enforce mode would refuse or reduce is asked for.
 */
import type { NativeFunction, Patcher } from '../patcher.js';

/** Bindings that reach unmediated I/O whole, and what they reach (the refusal's reason). */
const REFUSED = new Map([
  ['fs', 'raw file opens, reads and writes'],
  ['spawn_sync', 'process spawns without child_process'],
  ['process_wrap', 'process spawns without child_process'],
  ['fs_event_wrap', 'file system watches, read unrecorded'],
  ['async_wrap', 'the async context provenance follows (its stack and promise hooks)'],
]);

/** Bindings served reduced: the members kept, and what the others reach. */
const VIEWS = new Map<string, { keep: readonly string[]; reach: string }>([
  [
    'inspector',
    { keep: ['url', 'isEnabled', 'waitForDebugger', 'console', 'consoleCall'], reach: "the inspector's connections and server" },
  ],
  [
    'cares_wrap',
    {
      keep: [
        'canonicalizeIP',
        'convertIpv6StringToBuffer',
        'strerror',
        'AF_INET',
        'AF_INET6',
        'AF_UNSPEC',
        'AI_ADDRCONFIG',
        'AI_ALL',
        'AI_V4MAPPED',
        'DNS_ORDER_VERBATIM',
        'DNS_ORDER_IPV4_FIRST',
        'DNS_ORDER_IPV6_FIRST',
      ],
      reach: 'DNS queries and lookups',
    },
  ],
  [
    'v8',
    {
      keep: [
        'cachedDataVersionTag',
        'heapStatisticsBuffer',
        'heapCodeStatisticsBuffer',
        'heapSpaceStatisticsBuffer',
        'updateHeapStatisticsBuffer',
        'updateHeapCodeStatisticsBuffer',
        'updateHeapSpaceStatisticsBuffer',
        'kHeapSpaces',
      ],
      reach: "V8's flags and heap snapshots",
    },
  ],
]);

/** Bindings served as they are: locked handles (writes decided at the handle) or no I/O at all. */
const SERVED = new Set([
  ...['tcp_wrap', 'pipe_wrap', 'udp_wrap', 'tty_wrap', 'tls_wrap', 'stream_wrap', 'js_stream'],
  ...[
    'buffer',
    'config',
    'constants',
    'contextify',
    'crypto',
    'http_parser',
    'icu',
    'natives',
    'os',
    'signal_wrap',
    'url',
    'util',
    'uv',
    'zlib',
  ],
]);

type Refuse = (what: string) => Error;
type Bindings = { binding?: NativeFunction };

/**
 * Wraps `process.binding` (the one wrapper of it): in enforce mode `refuse` makes the recorded
 * denial thrown for a refused binding; in audit mode (`refuse` undefined) each such binding is
 * served as Node serves it, after one stderr line.
 */
export function guardBindings(patcher: Patcher, refuse: Refuse | undefined): void {
  if (typeof (process as Bindings).binding !== 'function') return;
  const warned = new Set<string>();
  patcher.wrapMethod(
    process,
    'binding',
    (binding) =>
      function (this: unknown, ...args: unknown[]): unknown {
        const name = String(args[0]);
        const reach = REFUSED.get(name);
        if (reach !== undefined && refuse !== undefined) throw refuse(`process.binding('${name}') (${reach})`);
        const exports = Reflect.apply(binding, this, args) as Record<string, unknown>;
        const view = VIEWS.get(name);
        const why = reach ?? view?.reach ?? (SERVED.has(name) ? undefined : 'a binding provenant has not checked');
        if (why === undefined) return exports;
        if (refuse === undefined) {
          const enforced = view === undefined ? 'refuses it' : 'serves it without them';
          if (!warned.has(name))
            process.stderr.write(
              `provenant: process.binding('${name}') reaches ${why} beneath every mediated API; enforce mode ${enforced}\n`,
            );
          warned.add(name);
          return exports;
        }
        if (view === undefined) throw refuse(`process.binding('${name}') (${why})`);
        const reduced: Record<string, unknown> = {};
        for (const member of view.keep) if (member in exports) reduced[member] = exports[member];
        return reduced;
      },
  );
}
