/**
 * A grpc-js call is decided with the flow context it was made in, though grpc-js opens its stream
 * later from its own callbacks. Two scopes call the same channel before it has connected: one
 * with public bytes, one after reading a confidential file. Both wait in grpc-js's queue and are
 * started from one callback; before, both were decided in that callback's context and the secret
 * reached the unlabelled server. Now the secret call fails with provenant's denial, as a failed
 * call (no endless retry), nothing of it arrives, and the public call arrives.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGrpcServer, type GrpcServer } from '../helpers/grpc-server.js';
import { journalRecords } from '../helpers/journal.js';
import { repoRoot, runNode } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { confidentialDir } from '../lineage/confidential-app.js';

const METHOD = '/app.Notes/Send';

let server: GrpcServer;
beforeAll(async () => {
  server = await startGrpcServer([METHOD]);
});
afterAll(async () => {
  await server.close();
  await cleanupTempDirs();
});

it("calls queued while the channel connects: each decided with its own scope's context; the secret one denied and absent at the server, the public one arrives", async () => {
  const dir = confidentialDir('provenant-grpc-calls-');
  writeFileSync(
    join(dir, 'app.js'),
    `const fs = require('node:fs');
const provenant = require(${JSON.stringify(join(repoRoot, 'dist', 'index.js'))});
const grpc = require(${JSON.stringify(join(repoRoot, 'node_modules', '@grpc', 'grpc-js'))});
const Client = grpc.makeGenericClientConstructor({ call: { path: '${METHOD}', requestStream: false, responseStream: false, requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b } }, 'Notes');
const client = new Client('${server.target}', grpc.credentials.createInsecure());
const outcomes = {};
const ended = (name) => (error) => {
  outcomes[name] = error ? { status: error.code, denied: /provenant denied/.test(error.details) } : 'sent';
  if (Object.keys(outcomes).length === 2) { console.log(JSON.stringify(outcomes)); client.close(); }
};
// Both calls are made before the channel has connected: grpc-js queues them.
provenant.run(() => client.call(Buffer.from('PUBLIC-NOTE'), ended('public')));
provenant.run(() => client.call(Buffer.from(fs.readFileSync(__dirname + '/secret/record.txt')), ended('secret')));
`,
  );
  const state = join(dir, 'state');
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: { PROVENANT_STATE_DIR: state, PROVENANT_MODE: 'enforce', OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
  });
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout.trim())).toEqual({ public: 'sent', secret: { status: grpc.status.INTERNAL, denied: true } });
  expect(server.bodies).toEqual([{ path: METHOD, body: 'PUBLIC-NOTE' }]);
  expect(server.started).toHaveLength(1);
  expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === `http://${server.target}`)).toBe(true);
});
