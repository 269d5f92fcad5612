/**
 * `--heapsnapshot-near-heap-limit` makes V8 write heap snapshots natively as the heap fills up:
 * everything the process holds goes to a file with no chance to decide the write, and JS cannot
 * switch it off once Node started with it. In enforce mode such a process does not start (exit
 * 78, like a bad config) rather than run with an unmediated way out; audit mode starts with a
 * warning. This covers Node children too: a child under provenant runs this same check.
 * A count of 0 is Node's default and arms nothing: Node's test runner (24.9) starts every test
 * file with all its options spelled out, `--heapsnapshot-near-heap-limit=0` among them.
 */
import { isMainThread } from '../support/main-thread.js';
import { diag } from '@opentelemetry/api';
import { ConfigError } from '../config/errors.js';
import type { Mode } from '../config/types.js';
import { nodeOption } from '../support/node-options.js';

export function refuseNativeDumpFlags(mode: Mode): void {
  if (!isMainThread() || mode === 'off') return;
  const count = nodeOption('heapsnapshot-near-heap-limit');
  if (count === undefined || /^0+$/.test(count)) return;
  const problem =
    '--heapsnapshot-near-heap-limit (command line or NODE_OPTIONS) makes Node write heap snapshots natively, where no write can be decided';
  if (mode === 'enforce') throw new ConfigError(`${problem}; remove it to run in enforce mode`);
  diag.warn(`provenant: ${problem}; those snapshots are not mediated`);
}
