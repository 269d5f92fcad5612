// stdout and stderr are destinations (process://<node>/stdout, /stderr): "log the patient record
// to stdout, which ships to a US log service" is denied by a rule once stdout is labelled so.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, SECRET_TEXT, TEST_KEY, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const US_LOG_SHIPPER = [
  '  - match: { stdio: stdout }',
  '    labels: { location: us-east-1 }',
  'location: eu-west-1',
  'rules:',
  '  - id: pii-stays-in-eu',
  '    deny: { data: { tags: [pii] }, destination: { location: { notIn: [eu-west-1] } } }',
  '    message: PII must not leave the EU',
].join('\n');

describe('stdout and stderr', () => {
  it('a rule on a labelled stdout denies logging PII there: nothing reaches the stream, the callback gets the denial', async () => {
    const ws = workspace(US_LOG_SHIPPER);
    const result = await ws.run('stdio.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ writeCallback: { code: 'ERR_PROVENANCE_DENIED', rule: 'pii-stays-in-eu' }, untouched: true });
    expect(result.stdout).not.toContain(SECRET_TEXT.trim());
    expect(result.stdout).toContain('public line\n');
    // stderr has no entry: the operator's console takes any data.
    expect(result.stderr).toContain(`console.error: ${SECRET_TEXT}`);
  });

  it.each(['Writable.prototype.write.call', '_write', 'handle.writeUtf8String'])(
    'a labelled stdout written around its write (%s) gets the same decision: the public line arrives, the secret does not',
    async (way) => {
      const ws = workspace(US_LOG_SHIPPER);
      const result = await ws.run('stdout-paths.cjs', { args: [way] });
      expect(result.code, result.stderr).toBe(0);
      const outcomes = JSON.parse(ws.read('out/secret/stdout-paths.json')) as Record<string, string>;
      expect(outcomes).toEqual({ public: 'sent', secret: way === 'handle.writeUtf8String' ? 'refused' : 'denied:pii-stays-in-eu' });
      expect(result.stdout).toContain(`public ${way}\n`);
      expect(result.stdout).not.toContain(SECRET_TEXT.trim());
    },
  );

  it('the allowed twin: unlabelled, stdout is the operator console and logs anything', async () => {
    const ws = workspace();
    const result = await ws.run('stdio.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ writeCallback: 'written', untouched: true });
    expect(result.stdout).toContain(`console.log: ${SECRET_TEXT}`);
    expect(result.stdout).toContain(`stdout.write: ${SECRET_TEXT}`);
  });

  it('in a Node child its parent reads, stdout and stderr are unlabelled destinations for what the child read itself', async () => {
    const ws = workspace();
    const result = await ws.run('child-prints.cjs', { env: { PROVENANT_KEY: TEST_KEY } });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ stdout: 'nothing secret\n', stderr: '' });
  });
});
