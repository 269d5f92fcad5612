/**
 * Policy sources kept content-addressed under `<state>/policies/<hex>.json`, so a record's policy
 * digest finds the exact policy that decided it. A file is read only when its content hashes to
 * the digest asked for: a replaced file is reported, never replayed.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomically } from '../support/atomic-file.js';
import { join } from 'node:path';
import { internally } from '../support/reentrancy.js';
import { policyDigest } from '../policy/policy-source.js';

function fileOf(stateDir: string, digest: string): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
  if (!hex) throw new Error(`"${digest}" is not a policy digest`);
  return join(stateDir, 'policies', `${hex}.json`);
}

/** Writes the source once (temporary file, then rename); an existing file is left as it is. */
export function keepPolicy(stateDir: string, digest: string, source: string): void {
  const file = fileOf(stateDir, digest);
  internally(() => {
    try {
      readFileSync(file);
      return;
    } catch {
      // Not kept yet.
    }
    mkdirSync(join(stateDir, 'policies'), { recursive: true });
    writeFileAtomically(file, source);
  });
}

/** The source of `digest` from the first state dir that has it, checked against the digest. */
export function readPolicy(stateDirs: readonly string[], digest: string): string {
  for (const dir of stateDirs) {
    let source: string;
    try {
      source = readFileSync(fileOf(dir, digest), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (policyDigest(source) !== digest) throw new Error(`policy file for ${digest} in ${dir} does not match its digest (altered)`);
    return source;
  }
  throw new Error(`policy ${digest} is not kept in ${stateDirs.join(', ')}`);
}
