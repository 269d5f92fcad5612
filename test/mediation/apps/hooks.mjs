// Module customization hooks, run by Node in its hooks thread: a resolve hook the app's import of
// `hooked:answer` depends on, and (when asked) a file written at initialization: a cache
// ('writes'), the labelled file copied to a public file ('leaks') or to a secret one ('keeps').
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function initialize({ root, mode }) {
  if (mode === 'writes') writeFileSync(join(root, 'out', 'public', 'hook-cache.txt'), 'cache\n');
  const to = { leaks: 'public', keeps: 'secret' }[mode];
  if (to) writeFileSync(join(root, 'out', to, 'hook-copy.txt'), readFileSync(join(root, 'secret', 'a.txt')));
}

export async function resolve(specifier, context, next) {
  if (specifier === 'hooked:answer') return { url: 'data:text/javascript,export default "resolved by the hook"', shortCircuit: true };
  return next(specifier, context);
}
