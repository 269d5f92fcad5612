/**
 * The keys a start needs, each checked before anything is patched: an unusable identity key,
 * journal key or witness key stops the start as an invalid config does (exit 78).
 */
import { ConfigError } from '../config/errors.js';
import type { ProvenantConfig } from '../config/types.js';
import { loadSigningKey, type SigningKey } from '../journal/keys.js';
import { parseVkey, SIG_COSIGNATURE } from '../journal/note.js';
import { ServiceIdentity } from '../propagation/identity.js';
import { internally } from '../support/reentrancy.js';

/** This service's signing identity; an unusable PROVENANT_IDENTITY_KEY stops the start like a bad config. */
export function loadIdentity(service: string, config: ProvenantConfig, env: NodeJS.ProcessEnv): ServiceIdentity {
  try {
    return new ServiceIdentity({
      service,
      identityKey: env['PROVENANT_IDENTITY_KEY'],
      sharedKey: env['PROVENANT_KEY'],
      trusted: config.trust.identities,
    });
  } catch (error) {
    throw new ConfigError(
      `PROVENANT_IDENTITY_KEY is not a usable Ed25519 private key (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/**
 * PROVENANT_JOURNAL_KEY (PEM or a path to one). A key that is set but unusable stops the start, as
 * an invalid config does: running unsigned would quietly turn evidence into mere logs.
 */
export function readJournalKey(env: NodeJS.ProcessEnv): SigningKey | undefined {
  const value = env['PROVENANT_JOURNAL_KEY'];
  if (value === undefined || value === '') return undefined;
  try {
    return internally(() => loadSigningKey(value));
  } catch (error) {
    throw new ConfigError(`PROVENANT_JOURNAL_KEY is unusable: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Witness keys are checked at start, so a typo is exit 78 and not a worker that never cosigns. */
export function checkWitnessKeys(config: ProvenantConfig): void {
  for (const witness of config.journal.witnesses) {
    let type: number;
    try {
      type = parseVkey(witness.vkey).type;
    } catch (error) {
      throw new ConfigError(`journal.witnesses ${witness.url}: ${(error as Error).message}`, config.file);
    }
    if (type !== SIG_COSIGNATURE)
      throw new ConfigError(`journal.witnesses ${witness.url}: vkey is not a cosignature (type 0x04) key`, config.file);
  }
}
