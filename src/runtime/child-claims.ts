/**
 * The runtime's side of child processes: the environment a Node child under provenant gets (the
 * signed claim plus this process's policy, built over propagation for the instrumentation, which
 * never imports propagation), and, in such a child, seeding the process context from the claim
 * it was started with.
 */
import type { ProvenantConfig } from '../config/types.js';
import { unverifiedData, verifiedData } from '../engine/claimed-data.js';
import type { FlowEngine } from '../engine/flow-engine.js';
import type { ChildClaims } from '../instrumentation/instrumentation.js';
import type { ProvenancePropagator } from '../propagation/propagator.js';

/** The variable a child's claim travels in. */
export const PARENT_CLAIM_VARIABLE = 'PROVENANT_PARENT_CLAIM';
/** Linux allows 128 KiB per environment string; a longer source list is sent as a digest. */
const CLAIM_BUDGET_BYTES = 32 * 1024;

export function createChildClaims(
  claims: ProvenancePropagator,
  config: ProvenantConfig,
  env: NodeJS.ProcessEnv,
  stateDir: string,
): ChildClaims {
  const key = env['PROVENANT_KEY'];
  return {
    variable: PARENT_CLAIM_VARIABLE,
    environment(data) {
      // Bound to this process as the child's parent: a copy of it is refused by any other process.
      const claim = claims.signedClaim({ ...data, audience: parentAudience(process.pid) }, CLAIM_BUDGET_BYTES);
      if (claim === undefined || key === undefined || config.file === undefined) return undefined;
      return {
        [PARENT_CLAIM_VARIABLE]: claim,
        PROVENANT_CONFIG: config.file,
        PROVENANT_MODE: config.mode,
        PROVENANT_STATE_DIR: stateDir,
        PROVENANT_KEY: key,
      };
    },
  };
}

/**
 * In a child started by an instrumented parent: the process context starts with what the parent
 * handed over, as a read from the parent (`process://<node>/<pid>/parent`): a verified claim
 * carries its own labels (the parent's configured labels say what it may receive), an unverified
 * one is joined with them. The variable is removed so the app cannot pass it on. Returns true when there was a claim (verified or not).
 */
export function inheritParentClaim(engine: FlowEngine, claims: ProvenancePropagator, env: NodeJS.ProcessEnv): boolean {
  const text = env[PARENT_CLAIM_VARIABLE];
  if (text === undefined) return false;
  delete env[PARENT_CLAIM_VARIABLE];
  const verdict = claims.verifyClaim(text, CLAIM_BUDGET_BYTES, parentAudience(process.ppid));
  const verified = verdict.trusted ? verifiedData(engine.sets, engine.schema, verdict.claim.labels, verdict.claim.sources) : undefined;
  const provenance = verified ?? unverifiedData(engine.sets, engine.schema, verdict.trusted ? verdict.claim.labels : verdict.claimed);
  engine.read(engine.resources.parent(), undefined, {
    provenance,
    vouched: verified !== undefined,
    attributes: { 'provenant.claim': verdict.trusted ? 'verified' : verdict.reason },
  });
  return true;
}

/** The audience of a claim for the children of process `pid`. */
function parentAudience(pid: number): string {
  return `parent-pid:${pid}`;
}
