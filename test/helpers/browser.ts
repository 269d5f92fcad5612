// Debian's Chromium driven by playwright-core (installed by .ci/run when missing). One browser
// per test file; screenshots go to test-artifacts/ (git-ignored).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './spawn.js';

export const chromiumPath = process.env['PROVENANT_CHROMIUM'] ?? '/usr/bin/chromium';
const artifactsDir = path.join(repoRoot, 'test-artifacts');

/** Flags for a machine without network: no background requests, no sandbox (CI runs as root). */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  // playwright gives every launch a fresh temporary --user-data-dir.
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_FLAGS });
}

export function artifact(name: string): string {
  mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, name);
}
