// fd-level writes (fs.writeSync / fs.write) to fds the fs API did not open: fd 1 and 2 are the
// stdout/stderr resources, a socket's own fd and an inherited pipe are unlabelled destinations,
// so labelled data cannot leave below the stream APIs in enforce mode.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, SECRET_TEXT, workspace } from './fixture.js';
import { listen } from './listeners.js';

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

const PUBLIC_LINES = { publicToSocketFd: 'written', publicToStdout: 'written' };
const CHILD = { secretToPipe: { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' }, publicToPipe: 'written' };

describe('fd-level writes outside the fd map', () => {
  it('labelled data written to fd 1, a socket fd or an inherited pipe moves nothing; stderr (the console) takes it', async () => {
    const ws = workspace(US_LOG_SHIPPER);
    const listener = await listen('127.0.0.1');
    const result = await ws.run('fd-writes.cjs', { args: ['secret', String(listener.port)] });
    await listener.settle();
    expect(result.code, result.stderr).toBe(0);
    const denied = (rule: string): unknown => ({ code: 'ERR_PROVENANCE_DENIED', rule });
    expect(outcome(result)).toEqual({
      writeSyncStdout: denied('pii-stays-in-eu'),
      writeSyncStderr: 'written',
      writeStdout: denied('pii-stays-in-eu'),
      socketFd: denied('confidentiality'),
      ...PUBLIC_LINES,
      child: CHILD,
      fromPipe: 'pipe: nothing secret\n',
    });
    expect(result.stdout).not.toContain(SECRET_TEXT.trim());
    expect(result.stdout).toContain('writeSync(1): nothing secret\n');
    expect(result.stderr).toContain(`writeSync(2): ${SECRET_TEXT}`);
    expect(listener.received).toBe('socket fd: nothing secret\n');
    await listener.close();
  });

  it('the allowed twin: unlabelled data goes through every fd', async () => {
    const ws = workspace(US_LOG_SHIPPER);
    const listener = await listen('127.0.0.1');
    const result = await ws.run('fd-writes.cjs', { args: ['public', String(listener.port)] });
    await listener.settle();
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({
      writeSyncStdout: 'written',
      writeSyncStderr: 'written',
      writeStdout: 'written',
      socketFd: 'written',
      ...PUBLIC_LINES,
      child: CHILD,
      fromPipe: 'pipe: nothing secret\n',
    });
    expect(result.stdout).toContain('writeSync(1): nothing secret\nwrite(1): nothing secret\n');
    expect(listener.received).toBe('socket fd: nothing secret\nsocket fd: nothing secret\n');
    await listener.close();
  });
});
