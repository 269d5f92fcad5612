// worker_threads: workerData and messages carry the sender context's labels into a worker under
// provenant, whose writes are decided with them, and back; a worker started without the preload
// runs it all the same (enforce mode), one that cannot is refused, and a MessageChannel is a
// destination decided before anything is handed over.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, SECRET_TEXT, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const denied = { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' };
const unmonitored = { code: 'ERR_PROVENANCE_DENIED', rule: 'unmonitored-thread' };

describe('worker threads', () => {
  it('a worker given secret data writes it only where secret data may go, and what it sends back stays secret', async () => {
    const ws = workspace();
    const result = await ws.run('workers.cjs', { args: ['secret'] });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({
      bareWorker: 'created',
      forgedExportWorker: unmonitored,
      channel: denied,
      worker: { toPublic: denied, toSecret: 'written' },
      answerToPublic: denied,
    });
    expect(ws.read('out/secret/worker.txt')).toBe(SECRET_TEXT);
    for (const file of ['worker.txt', 'answer.txt', 'ran-bare-worker', 'ran-forged-worker'])
      expect(ws.exists(`out/public/${file}`), file).toBe(false);
  });

  it('the allowed twin: from a context holding nothing labelled every thread under provenant runs and writes', async () => {
    const ws = workspace();
    const result = await ws.run('workers.cjs', { args: ['clean'] });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({
      bareWorker: 'created',
      forgedExportWorker: unmonitored,
      channel: 'posted',
      worker: { toPublic: 'written', toSecret: 'written' },
      answerToPublic: 'written',
    });
    expect(ws.read('out/public/answer.txt')).toBe('answer please: nothing secret\n');
    expect(ws.exists('out/public/ran-bare-worker')).toBe(true);
    expect(ws.exists('out/public/ran-forged-worker')).toBe(false);
  });
});
