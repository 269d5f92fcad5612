/**
 * Name lookups Node makes inside a flow that is decided already: a TCP connect (decided with the
 * name and the resolved address), a UDP send or connect (decided with the name), a UDP bind (a
 * local address). The DNS instrumentation does not decide them again as queries of their own.
 */
import { ReentrancyGuard } from '../support/reentrancy.js';

const inside = new ReentrancyGuard();

/** Run `fn` (which may look a name up synchronously) as part of a flow already decided. */
export function withInternalLookups<T>(fn: () => T): T {
  return inside.run(fn);
}

export function isInternalLookup(): boolean {
  return inside.active;
}
