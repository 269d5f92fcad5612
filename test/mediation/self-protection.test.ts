// A monitor the app cannot switch off: the instrumented app may not write, replace, link to, move
// or remove provenant's config file, its key file or its state dir (rule self-protection),
// whatever the policy says; a SIGHUP afterwards reloads the same policy.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

describe('self-protection', () => {
  it('denies every way of rewriting the policy, the key or the journal, and the policy still holds after SIGHUP', async () => {
    const ws = workspace();
    // The state dir sits inside the workspace, as it often sits inside an app's folder.
    const keyFile = ws.abs('journal-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const configBefore = readFileSync(ws.config);
    const keyBefore = readFileSync(keyFile);
    const result = await ws.run('tamper.cjs', { args: [ws.config, keyFile, ws.stateDir], env: { PROVENANT_JOURNAL_KEY: keyFile } });
    expect(result.code, result.stderr).toBe(0);
    const attempts = outcome(result);
    const { writeOtherYaml, secretToPublicAfterReload, ...protectedAttempts } = attempts;
    expect(Object.keys(protectedAttempts)).toHaveLength(18);
    expect(protectedAttempts).toEqual(Object.fromEntries(Object.keys(protectedAttempts).map((name) => [name, 'self-protection'])));
    expect(writeOtherYaml).toBe('done');
    expect(secretToPublicAfterReload).toBe('confidentiality');

    expect(readFileSync(ws.config)).toEqual(configBefore);
    expect(readFileSync(keyFile)).toEqual(keyBefore);
    expect(existsSync(path.join(ws.stateDir, 'journal', 'forged.jsonl'))).toBe(false);
    expect(existsSync(path.join(ws.stateDir, 'journal', 'dangling.jsonl'))).toBe(false);
    expect(readdirSync(path.join(ws.stateDir, 'journal')).length).toBeGreaterThan(0);
    expect(ws.exists('out/public/moved.yaml')).toBe(false);
    expect(ws.exists('out/public/leak.txt')).toBe(false);
  });
});
