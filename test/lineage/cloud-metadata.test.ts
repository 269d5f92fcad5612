/**
 * The AWS EC2 resource detector's requests to the instance metadata service (169.254.169.254,
 * fixed in the detector) are the SDK's, not flows, even after the app read confidential data; the
 * app's own request there with that data is denied and nothing reaches the service.
 *
 * The detector cannot be pointed anywhere else, so the stand-in is the real address: the stand-in
 * service and the app run in a network namespace of their own (`unshare --net`, root, as the tests
 * and CI run), where 169.254.169.254 is on that namespace's loopback and reaches nothing outside.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { cleanEnv, distRegister, nodeBin, repoRoot } from '../helpers/spawn.js';
import { confidentialApp } from './confidential-app.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

afterAll(cleanupTempDirs);

const otel = (name: string): string => JSON.stringify(join(repoRoot, 'node_modules', '@opentelemetry', name));

/** Inside the namespace: loopback up with the metadata address, an IMDSv2 stand-in, then the app under provenant. */
const RUNNER = `
const { execFileSync, execFile } = require('node:child_process');
const http = require('node:http');
execFileSync('ip', ['link', 'set', 'lo', 'up']);
execFileSync('ip', ['addr', 'add', '169.254.169.254/32', 'dev', 'lo']);
const seen = { connections: 0, requests: [] };
const server = http.createServer((req, res) => {
  seen.requests.push(req.method + ' ' + req.url);
  req.resume().on('end', () => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('token-1');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'token-1') return res.writeHead(401).end();
    if (req.url === '/latest/dynamic/instance-identity/document')
      return res.end(JSON.stringify({ accountId: '123', instanceId: 'i-standin', instanceType: 't3.micro', region: 'eu-west-1', availabilityZone: 'eu-west-1a' }));
    if (req.url === '/latest/meta-data/hostname') return res.end('standin.internal');
    res.writeHead(404).end();
  });
});
server.on('connection', () => seen.connections++);
server.listen(80, '169.254.169.254', () => {
  execFile(process.execPath, ['-r', process.env.REGISTER, 'app.js'], { cwd: process.env.APP_DIR }, (error, stdout, stderr) => {
    server.close();
    console.log(JSON.stringify({ code: error ? error.code : 0, stderr, app: stdout.trim(), ...seen }));
  });
});
`;

interface Outcome {
  code: number;
  stderr: string;
  app: string;
  connections: number;
  requests: string[];
}

async function inNamespace(action: string): Promise<{ outcome: Outcome; state: string }> {
  const { dir } = confidentialApp('provenant-imds-', "const http = require('node:http');", action);
  writeFileSync(join(dir, 'runner.js'), RUNNER);
  const state = join(dir, 'state');
  const { stdout } = await promisify(execFile)('unshare', ['--net', '--', nodeBin, join(dir, 'runner.js')], {
    env: cleanEnv({
      REGISTER: distRegister,
      APP_DIR: dir,
      PROVENANT_STATE_DIR: state,
      PROVENANT_MODE: 'enforce',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    }),
    timeout: 30_000,
  });
  return { outcome: JSON.parse(stdout.trim()) as Outcome, state };
}

it("the EC2 detector's metadata requests are not flows after a confidential read; none is journaled", async () => {
  const { outcome, state } = await inNamespace(`
const { detectResources } = require(${otel('resources')});
const { awsEc2Detector } = require(${otel('resource-detector-aws')});
const resource = detectResources({ detectors: [awsEc2Detector] });
resource.waitForAsyncAttributes().then(() => report({ provider: resource.attributes['cloud.provider'], host: resource.attributes['host.id'] }));
`);
  expect(outcome.code, outcome.stderr).toBe(0);
  expect(JSON.parse(outcome.app)).toEqual({ provider: 'aws', host: 'i-standin' });
  expect(outcome.requests).toEqual([
    'PUT /latest/api/token',
    'GET /latest/dynamic/instance-identity/document',
    'GET /latest/meta-data/hostname',
  ]);
  const records = journalRecords(state);
  expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
  expect(records.filter((record) => record.resource.includes('169.254.169.254'))).toEqual([]);
});

it('the app itself sending data to the metadata address: denied, nothing reaches it', async () => {
  const { outcome, state } = await inNamespace(`
const req = http.request({ host: '169.254.169.254', path: '/latest/api/token', method: 'PUT' });
req.on('error', (error) => report({ error: error.code }));
req.end(secret);
`);
  expect(outcome.code, outcome.stderr).toBe(0);
  expect(JSON.parse(outcome.app)).toEqual({ error: 'ERR_PROVENANCE_DENIED' });
  expect(outcome.connections).toBe(0);
  expect(outcome.requests).toEqual([]);
  expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === 'http://169.254.169.254:80')).toBe(true);
});
