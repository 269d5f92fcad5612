/** Checks PROVENANT_INSTRUMENT at start, before anything is patched. */
import { ConfigError } from '../config/errors.js';
import type { Mode } from '../config/types.js';
import { INSTRUMENTATION_NAMES, selectInstrumentations } from '../instrumentation/index.js';

/**
 * PROVENANT_INSTRUMENT: a name that is no part is a typo, never a silent gap. In enforce mode
 * every channel must be mediated (complete mediation): a part left out would let labelled data
 * leave unseen, and denying it would need the very interception that was switched off, so the
 * start is refused, naming what was left out. Audit mode may trade coverage for overhead.
 */
export function checkInstrumentSelection(list: string | undefined, mode: Mode): void {
  const selection = selectInstrumentations(list);
  if (selection.unknown.length > 0) {
    throw new ConfigError(
      `PROVENANT_INSTRUMENT: unknown part ${selection.unknown.map((name) => `"${name}"`).join(', ')} (parts: ${INSTRUMENTATION_NAMES.join(', ')})`,
    );
  }
  if (mode === 'enforce' && selection.omitted.length > 0) {
    throw new ConfigError(
      `PROVENANT_INSTRUMENT leaves ${selection.omitted.join(', ')} unmediated, which enforce mode refuses (complete mediation); list every part or use audit mode`,
    );
  }
}
