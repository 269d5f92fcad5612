/**
 * The GCP resource detector's metadata queries are the SDK's, not flows, after the app read
 * confidential data, however the detector is loaded: `require` of its CommonJS build, an ES
 * `import` of its ESM build, and that import under import-in-the-middle's loader (how
 * OpenTelemetry's ESM instrumentation runs). In each, the app's own query of the same server
 * through the same gcp-metadata, and its `PUT` of the secret there, are denied and never reach the
 * server. The server is a stand-in on loopback named in GCE_METADATA_HOST (read at start).
 */
import { symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { repoRoot, runNode, type Preload } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { confidentialDir } from './confidential-app.js';

afterAll(cleanupTempDirs);

const requests: string[] = [];
// A GCE metadata server: answers with the Metadata-Flavor header gcp-metadata insists on; a GKE
// cluster name it does not have (so the detector goes on to GCE).
const answers: Record<string, string> = {
  '/computeMetadata/v1/instance': '{}',
  '/computeMetadata/v1/instance/machine-type': 'projects/123/machineTypes/e2-small',
  '/computeMetadata/v1/instance/id': '4520031799277581759',
  '/computeMetadata/v1/instance/name': 'standin-vm',
  '/computeMetadata/v1/instance/zone': 'projects/123/zones/europe-west1-b',
  '/computeMetadata/v1/project/project-id': 'standin-project',
};
const gce = http.createServer((req, res) => {
  requests.push(`${req.method} ${req.url}`);
  req.resume().on('end', () => {
    const answer = req.headers['metadata-flavor'] === 'Google' ? answers[(req.url ?? '').replace(/\?.*/, '')] : undefined;
    if (answer === undefined) return res.writeHead(404, { 'metadata-flavor': 'Google' }).end();
    res.writeHead(200, { 'metadata-flavor': 'Google', 'content-type': 'application/text' }).end(answer);
  });
});
beforeAll(() => new Promise<void>((resolve) => gce.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => gce.close(() => resolve())));

type Loading = 'require' | 'import' | 'import-in-the-middle';

/** The app's opening lines: the packages by name, as an app loads them (node_modules is linked into its folder). */
const HEADER: Record<'cjs' | 'esm', string> = {
  cjs: `const fs = require('node:fs');
const http = require('node:http');
const { detectResources } = require('@opentelemetry/resources');
const { gcpDetector } = require('@opentelemetry/resource-detector-gcp');
const gcpMetadata = require('gcp-metadata');
const secret = fs.readFileSync(__dirname + '/secret/record.txt', 'utf8');`,
  esm: `import fs from 'node:fs';
import http from 'node:http';
import { detectResources } from '@opentelemetry/resources';
import { gcpDetector } from '@opentelemetry/resource-detector-gcp';
import * as gcpMetadata from 'gcp-metadata';
const secret = fs.readFileSync(import.meta.dirname + '/secret/record.txt', 'utf8');`,
};

/** Runs the app (it reads the confidential file, then `action`) loaded as `loading` says; returns what it reported. */
async function run(loading: Loading, action: string): Promise<{ app: unknown; state: string; host: string }> {
  const dir = confidentialDir('provenant-gcp-');
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const esm = loading !== 'require';
  const app = esm ? 'app.mjs' : 'app.js';
  writeFileSync(
    join(dir, app),
    `${HEADER[esm ? 'esm' : 'cjs']}\nconst report = (outcome) => console.log(JSON.stringify(outcome));\n${action}\n`,
  );
  const args = [app];
  if (loading === 'import-in-the-middle') {
    // What OpenTelemetry's ESM setup registers before the app (auto-instrumentations' --import register does this).
    writeFileSync(
      join(dir, 'otel-hooks.mjs'),
      "import { register } from 'node:module';\nregister('@opentelemetry/instrumentation/hook.mjs', import.meta.url);\n",
    );
    args.unshift('--import', './otel-hooks.mjs');
  }
  const { port } = gce.address() as net.AddressInfo;
  const host = `127.0.0.1:${port}`;
  const state = join(dir, 'state');
  const preload: Preload = esm ? 'import' : 'require';
  const result = await runNode({
    args,
    cwd: dir,
    preload,
    env: {
      PROVENANT_STATE_DIR: state,
      PROVENANT_MODE: 'enforce',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      GCE_METADATA_HOST: host,
    },
  });
  expect(result.code, result.stderr).toBe(0);
  return { app: JSON.parse(result.stdout.trim()), state, host };
}

describe.each<Loading>(['require', 'import', 'import-in-the-middle'])('GCP detector loaded by %s', (loading) => {
  it("its metadata queries are not flows after a confidential read; none is journaled, and the resource has the cloud's attributes", async () => {
    requests.length = 0;
    const { app, state, host } = await run(
      loading,
      `const resource = detectResources({ detectors: [gcpDetector] });
resource.waitForAsyncAttributes().then(() => report({ provider: resource.attributes['cloud.provider'], host: resource.attributes['host.name'], zone: resource.attributes['cloud.availability_zone'] }));`,
    );
    expect(app).toEqual({ provider: 'gcp', host: 'standin-vm', zone: 'europe-west1-b' });
    expect(requests).toContain('GET /computeMetadata/v1/project/project-id');
    const records = journalRecords(state);
    expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
    expect(records.filter((record) => record.resource.includes(host))).toEqual([]);
  });

  it('the app querying the same server through the same gcp-metadata after the detector, and putting the secret there: denied, nothing of it arrives', async () => {
    requests.length = 0;
    const { app, state, host } = await run(
      loading,
      // The detector runs first, and the app continues from its result: the detector's scope must
      // not cover the app's own queries.
      `const resource = detectResources({ detectors: [gcpDetector] });
const outcomes = {};
resource.waitForAsyncAttributes().then(() => {
  outcomes.detected = resource.attributes['host.name'];
  return gcpMetadata.instance('id');
}).then(() => (outcomes.query = 'answered'), (error) => (outcomes.query = error.cause?.code ?? error.code ?? String(error))).then(() => {
  const req = http.request('http://' + process.env.GCE_METADATA_HOST + '/computeMetadata/v1/instance/guest-attributes/x', { method: 'PUT', headers: { 'metadata-flavor': 'Google' } });
  req.on('error', (error) => report({ ...outcomes, put: error.code }));
  req.end(secret);
});`,
    );
    expect(app).toEqual({ detected: 'standin-vm', query: 'ERR_PROVENANCE_DENIED', put: 'ERR_PROVENANCE_DENIED' });
    // Only the detector's queries reached the server; the app's query and PUT never connected.
    expect(requests.every((request) => request.startsWith('GET ') && !request.includes('guest-attributes'))).toBe(true);
    expect(requests.filter((request) => request === 'GET /computeMetadata/v1/instance/id')).toHaveLength(1);
    expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === `http://${host}`)).toBe(true);
  });
});
