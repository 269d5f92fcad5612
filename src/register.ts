/**
 * Preload entry: `node -r provenant/register app.js` or `node --import provenant/register app.mjs`.
 * The build replaces this file's output with a call into the one bundled copy of provenant that
 * the API shares (scripts/bundle.mjs); this source is what runs unbundled.
 */
import { preload } from './preload.js';

preload();
