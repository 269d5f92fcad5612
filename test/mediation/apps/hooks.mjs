// Module customization hooks, run by Node in its hooks thread: a pass-through resolve, and
// (when asked) a file written at initialization.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function initialize({ root, writes }) {
  if (writes) writeFileSync(join(root, 'out', 'public', 'hook-cache.txt'), 'cache\n');
}

export async function resolve(specifier, context, next) {
  return next(specifier, context);
}
