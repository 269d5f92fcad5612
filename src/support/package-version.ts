/** This package's version (from its package.json), for telemetry that names its producer. */
import { readFileSync } from 'node:fs';
import { OWN_PACKAGE_JSON } from './own-files.js';
import { internally } from './reentrancy.js';

export function packageVersion(): string {
  return internally(() => {
    try {
      return (JSON.parse(readFileSync(OWN_PACKAGE_JSON, 'utf8')) as { version: string }).version;
    } catch {
      return '0.0.0';
    }
  });
}
