/** Where the journal and node-local store live. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveStateDir(env: NodeJS.ProcessEnv = process.env, explicit?: string): string {
  if (explicit) return resolve(explicit);
  if (env['PROVENANT_STATE_DIR']) return resolve(env['PROVENANT_STATE_DIR']);
  if (env['XDG_STATE_HOME']) return join(resolve(env['XDG_STATE_HOME']), 'provenant');
  return join(homedir(), '.local', 'state', 'provenant');
}
