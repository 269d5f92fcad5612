/** Every instrumentation provenant enables at preload, in order. */
import type { Instrumentation } from './instrumentation.js';

export function createInstrumentations(): Instrumentation[] {
  return [];
}
