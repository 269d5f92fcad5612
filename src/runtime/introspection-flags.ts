/**
 * Options that hand the app a way beneath every patch for the life of the process: in enforce mode
 * such a process does not start (exit 78, like a bad config), since no JS patch can take them back.
 * - `--expose-internals`: Node's internal modules, and through `internalBinding` every raw binding
 *   (fs writes, process spawns, DNS queries), are `require`-able.
 * - `--allow-natives-syntax`: V8's runtime functions, which V8 itself does not treat as a boundary.
 * - `--inspect`, `--inspect-brk`, `--inspect-wait`: a debugger, or anything the app connects to
 *   the open port, evaluates code with every closure in reach (the originals provenant keeps).
 * The inspector and natives syntax are asked of Node and V8 (a V8 flag implying natives counts);
 * `--expose-internals` is read from the command line in both of Node's spellings.
 * Audit mode starts with a warning (none for the inspector: debugging an honest app there is what
 * audit mode is for). Turned on later, at run time, they are refused by
 * instrumentation/process/introspection.ts.
 */
import { diag } from '@opentelemetry/api';
import { ConfigError } from '../config/errors.js';
import type { Mode } from '../config/types.js';
import { inspectorOpen, internalsExposed, nativesSyntaxOn } from '../support/introspection-probes.js';

type Bindings = { binding?: (name: string) => { url?: () => unknown } | undefined };

export function refuseIntrospectionFlags(mode: Mode): void {
  if (mode === 'off') return;
  const binding = (process as Bindings).binding;
  const found: { problem: string; warn: boolean }[] = [];
  if (internalsExposed())
    found.push({ problem: "--expose-internals lets the app require Node's internal modules and raw bindings", warn: true });
  if (nativesSyntaxOn()) found.push({ problem: "--allow-natives-syntax lets the app call V8's runtime functions", warn: true });
  if (binding !== undefined && inspectorOpen(binding))
    found.push({ problem: 'the inspector is open (--inspect, --inspect-brk or --inspect-wait): a debugger can run any code', warn: false });
  if (found.length === 0) return;
  if (mode === 'enforce')
    throw new ConfigError(
      `${found.map(({ problem }) => problem).join('; ')}, beneath every mediated API; remove it to run in enforce mode`,
    );
  for (const { problem, warn } of found)
    if (warn) diag.warn(`provenant: ${problem}, beneath every mediated API; what goes that way is not mediated`);
}
