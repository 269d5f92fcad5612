/**
 * Cloud resource detectors' requests to their metadata services are the SDK's, not flows, even
 * after the app read confidential data: AWS EC2 and Azure VM (169.254.169.254), Alibaba Cloud ECS
 * (100.100.100.200), all fixed in the detectors, and AWS ECS (the task metadata endpoint ECS names
 * in ECS_CONTAINER_METADATA_URI_V4, with the ECS detector's read of /proc/self/cgroup) and AWS EKS
 * (GCP: gcp-detector.test.ts). The app's own requests to the same addresses with that data are
 * denied and nothing reaches the service.
 *
 * The fixed-address detectors cannot be pointed anywhere else, so the stand-ins are at the real
 * addresses: the stand-in services and the app run in a network namespace of their own
 * (`unshare --net`, root, as the tests and CI run), where those addresses are on that namespace's
 * loopback and reach nothing outside. The ECS endpoint is a loopback port named in its variable.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { cleanEnv, distRegister, nodeBin, repoRoot } from '../helpers/spawn.js';
import { confidentialApp, runConfidentialApp } from './confidential-app.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

afterAll(cleanupTempDirs);

const otel = (name: string): string => JSON.stringify(join(repoRoot, 'node_modules', '@opentelemetry', name));

/**
 * Inside the namespace: loopback up with the metadata addresses, stand-ins for AWS IMDSv2, Azure
 * IMDS and Alibaba Cloud's metadata service, then the app under provenant.
 */
const RUNNER = `
const { execFileSync, execFile } = require('node:child_process');
const http = require('node:http');
execFileSync('ip', ['link', 'set', 'lo', 'up']);
execFileSync('ip', ['addr', 'add', '169.254.169.254/32', 'dev', 'lo']);
execFileSync('ip', ['addr', 'add', '100.100.100.200/32', 'dev', 'lo']);
const seen = { connections: 0, requests: [] };
const server = http.createServer((req, res) => {
  seen.requests.push(req.socket.localAddress + ' ' + req.method + ' ' + req.url);
  req.resume().on('end', () => {
    if (req.socket.localAddress === '100.100.100.200') {
      if (req.url === '/latest/dynamic/instance-identity/document')
        return res.end(JSON.stringify({ 'owner-account-id': '123', 'instance-id': 'i-alibaba', 'instance-type': 'ecs.g6', 'region-id': 'cn-hangzhou', 'zone-id': 'cn-hangzhou-a' }));
      if (req.url === '/latest/meta-data/hostname') return res.end('alibaba.standin');
      return res.writeHead(404).end();
    }
    if (req.url.startsWith('/metadata/instance/compute?')) {
      if (req.headers.metadata !== 'True') return res.writeHead(400).end();
      return res.end(JSON.stringify({ vmId: 'vm-standin', name: 'azure-standin', location: 'westeurope', vmSize: 'B1s' }));
    }
    if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('token-1');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'token-1') return res.writeHead(401).end();
    if (req.url === '/latest/dynamic/instance-identity/document')
      return res.end(JSON.stringify({ accountId: '123', instanceId: 'i-standin', instanceType: 't3.micro', region: 'eu-west-1', availabilityZone: 'eu-west-1a' }));
    if (req.url === '/latest/meta-data/hostname') return res.end('standin.internal');
    res.writeHead(404).end();
  });
});
server.on('connection', () => seen.connections++);
const second = http.createServer((req, res) => server.emit('request', req, res));
second.on('connection', () => seen.connections++);
second.listen(80, '100.100.100.200');
server.listen(80, '169.254.169.254', () => {
  execFile(process.execPath, ['-r', process.env.REGISTER, 'app.js'], { cwd: process.env.APP_DIR }, (error, stdout, stderr) => {
    server.close();
    second.close();
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

/** Runs `runner` (which starts the app) in new namespaces (`unshare` flags); `env`: the runner's extra variables. */
async function inNamespaces(
  flags: readonly string[],
  runner: string,
  app: { prefix: string; requires: string; action: string },
  env: Record<string, string> = {},
): Promise<{ outcome: Outcome; state: string }> {
  const { dir } = confidentialApp(app.prefix, app.requires, app.action);
  writeFileSync(join(dir, 'runner.js'), runner);
  const state = join(dir, 'state');
  const { stdout } = await promisify(execFile)('unshare', [...flags, '--', nodeBin, join(dir, 'runner.js')], {
    env: cleanEnv({
      REGISTER: distRegister,
      APP_DIR: dir,
      PROVENANT_STATE_DIR: state,
      PROVENANT_MODE: 'enforce',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ...env,
    }),
    timeout: 30_000,
  });
  return { outcome: JSON.parse(stdout.trim()) as Outcome, state };
}

function inNamespace(action: string): Promise<{ outcome: Outcome; state: string }> {
  return inNamespaces(['--net'], RUNNER, { prefix: 'provenant-imds-', requires: "const http = require('node:http');", action });
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
    '169.254.169.254 PUT /latest/api/token',
    '169.254.169.254 GET /latest/dynamic/instance-identity/document',
    '169.254.169.254 GET /latest/meta-data/hostname',
  ]);
  const records = journalRecords(state);
  expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
  expect(records.filter((record) => record.resource.includes('169.254.169.254'))).toEqual([]);
});

for (const [host, method, path] of [
  ['169.254.169.254', 'PUT', '/latest/api/token'],
  ['100.100.100.200', 'POST', '/latest/meta-data/hostname'],
] as const) {
  it(`the app itself sending data to the metadata address ${host}: denied, nothing reaches it`, async () => {
    const { outcome, state } = await inNamespace(`
const req = http.request({ host: '${host}', path: '${path}', method: '${method}' });
req.on('error', (error) => report({ error: error.code }));
req.end(secret);
`);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(JSON.parse(outcome.app)).toEqual({ error: 'ERR_PROVENANCE_DENIED' });
    expect(outcome.connections).toBe(0);
    expect(outcome.requests).toEqual([]);
    expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === `http://${host}:80`)).toBe(true);
  });
}

it("the Azure VM and Alibaba Cloud detectors' metadata requests are not flows after a confidential read; none is journaled", async () => {
  const { outcome, state } = await inNamespace(`
const { detectResources } = require(${otel('resources')});
const { azureVmDetector } = require(${otel('resource-detector-azure')});
const { alibabaCloudEcsDetector } = require(${otel('resource-detector-alibaba-cloud')});
const azure = detectResources({ detectors: [azureVmDetector] });
const alibaba = detectResources({ detectors: [alibabaCloudEcsDetector] });
Promise.all([azure.waitForAsyncAttributes(), alibaba.waitForAsyncAttributes()]).then(() =>
  report({ azure: azure.attributes['host.id'], alibaba: alibaba.attributes['host.id'] }));
`);
  expect(outcome.code, outcome.stderr).toBe(0);
  expect(JSON.parse(outcome.app)).toEqual({ azure: 'vm-standin', alibaba: 'i-alibaba' });
  expect([...outcome.requests].sort()).toEqual([
    '100.100.100.200 GET /latest/dynamic/instance-identity/document',
    '100.100.100.200 GET /latest/meta-data/hostname',
    '169.254.169.254 GET /metadata/instance/compute?api-version=2021-12-13&format=json',
  ]);
  const records = journalRecords(state);
  expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
  expect(records.filter((record) => /169\.254\.169\.254|100\.100\.100\.200/.test(record.resource))).toEqual([]);
});

describe('AWS ECS: the task metadata endpoint ECS names in ECS_CONTAINER_METADATA_URI_V4', () => {
  const requests: string[] = [];
  let connections = 0;
  const ecs = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume().on('end', () => {
      if (req.url === '/v4/standin') return res.end(JSON.stringify({ ContainerARN: 'arn:aws:ecs:eu-west-1:123:container/c/standin' }));
      if (req.url === '/v4/standin/task')
        return res.end(
          JSON.stringify({
            TaskARN: 'arn:aws:ecs:eu-west-1:123:task/c/t1',
            Cluster: 'c',
            LaunchType: 'FARGATE',
            Family: 'f',
            Revision: '1',
          }),
        );
      res.writeHead(404).end();
    });
  });
  ecs.on('connection', () => connections++);
  beforeAll(() => new Promise<void>((resolve) => ecs.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => ecs.close(() => resolve())));

  async function run(action: string): Promise<{ app: unknown; state: string; uri: string }> {
    const { port } = ecs.address() as net.AddressInfo;
    const { dir, state } = confidentialApp('provenant-ecs-', "const http = require('node:http');", action);
    const uri = `http://127.0.0.1:${port}/v4/standin`;
    const app = await runConfidentialApp(dir, state, { ECS_CONTAINER_METADATA_URI_V4: uri });
    return { app, state, uri };
  }

  it("the ECS detector's metadata requests and cgroup read are not flows after a confidential read; none is journaled", async () => {
    requests.length = 0;
    const { app, state } = await run(`
const { detectResources } = require(${otel('resources')});
const { awsEcsDetector } = require(${otel('resource-detector-aws')});
const resource = detectResources({ detectors: [awsEcsDetector] });
resource.waitForAsyncAttributes().then(() => report({ task: resource.attributes['aws.ecs.task.arn'], platform: resource.attributes['cloud.platform'] }));
`);
    expect(app).toEqual({ task: 'arn:aws:ecs:eu-west-1:123:task/c/t1', platform: 'aws_ecs' });
    expect([...requests].sort()).toEqual(['GET /v4/standin', 'GET /v4/standin/task']);
    const { port } = ecs.address() as net.AddressInfo;
    const records = journalRecords(state);
    expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
    expect(records.filter((record) => record.resource.includes(`:${port}`) || record.resource.endsWith('/proc/self/cgroup'))).toEqual([]);
  });

  it('the app itself sending data to the ECS endpoint: denied, nothing reaches it', async () => {
    requests.length = 0;
    const before = connections;
    const { app, state } = await run(`
const req = http.request(process.env.ECS_CONTAINER_METADATA_URI_V4 + '/task', { method: 'POST' });
req.on('error', (error) => report({ error: error.code }));
req.end(secret);
`);
    expect(app).toEqual({ error: 'ERR_PROVENANCE_DENIED' });
    expect(connections).toBe(before);
    expect(requests).toEqual([]);
    const { port } = ecs.address() as net.AddressInfo;
    expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === `http://127.0.0.1:${port}`)).toBe(true);
  });
});

/**
 * Inside a network and mount namespace: the service-account files at their fixed paths (a tmpfs
 * over /run, so nothing lands on the host), `kubernetes.default.svc` in a bind-mounted /etc/hosts,
 * and a stand-in API server on 127.0.0.1:443 with a certificate for that name, then the app.
 */
const EKS_RUNNER = `
const { execFileSync, execFile } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const dir = process.env.APP_DIR;
execFileSync('ip', ['link', 'set', 'lo', 'up']);
execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/run']);
const account = '/var/run/secrets/kubernetes.io/serviceaccount';
fs.mkdirSync(account, { recursive: true });
fs.writeFileSync(account + '/token', 'standin-token');
fs.copyFileSync(process.env.EKS_CERT, account + '/ca.crt');
fs.writeFileSync(dir + '/hosts', '127.0.0.1 localhost kubernetes.default.svc\\n');
execFileSync('mount', ['--bind', dir + '/hosts', '/etc/hosts']);
const seen = { connections: 0, requests: [] };
const server = https.createServer({ cert: fs.readFileSync(process.env.EKS_CERT), key: fs.readFileSync(process.env.EKS_KEY) }, (req, res) => {
  seen.requests.push(req.method + ' ' + req.url);
  req.resume().on('end', () => {
    if (req.headers.authorization !== 'Bearer standin-token') return res.writeHead(401).end();
    if (req.url === '/api/v1/namespaces/kube-system/configmaps/aws-auth') return res.end('{}');
    if (req.url === '/api/v1/namespaces/amazon-cloudwatch/configmaps/cluster-info') return res.end(JSON.stringify({ data: { 'cluster.name': 'standin-cluster' } }));
    res.writeHead(404).end();
  });
});
server.on('secureConnection', () => seen.connections++);
server.listen(443, '127.0.0.1', () => {
  execFile(process.execPath, ['-r', process.env.REGISTER, 'app.js'], { cwd: dir }, (error, stdout, stderr) => {
    server.close();
    console.log(JSON.stringify({ code: error ? error.code : 0, stderr, app: stdout.trim(), ...seen }));
  });
});
`;

function inKubernetes(action: string): Promise<{ outcome: Outcome; state: string }> {
  const fixtures = join(repoRoot, 'test', 'lineage', 'fixtures', 'eks');
  return inNamespaces(
    ['--net', '--mount'],
    EKS_RUNNER,
    { prefix: 'provenant-eks-', requires: "const https = require('node:https');", action },
    { EKS_CERT: join(fixtures, 'cert.pem'), EKS_KEY: join(fixtures, 'key.pem') },
  );
}

const EKS_FILES = /serviceaccount\/(token|ca\.crt)$|\/proc\/self\/cgroup$|kubernetes\.default\.svc/;

describe('AWS EKS: the service-account files and the in-cluster API server, at their fixed paths and name', () => {
  it("the EKS detector's reads and API requests are not flows after a confidential read; none is journaled", async () => {
    const { outcome, state } = await inKubernetes(`
const { detectResources } = require(${otel('resources')});
const { awsEksDetector } = require(${otel('resource-detector-aws')});
const resource = detectResources({ detectors: [awsEksDetector] });
resource.waitForAsyncAttributes().then(() => report({ platform: resource.attributes['cloud.platform'], cluster: resource.attributes['k8s.cluster.name'] }));
`);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(JSON.parse(outcome.app)).toEqual({ platform: 'aws_eks', cluster: 'standin-cluster' });
    expect(outcome.requests).toEqual([
      'GET /api/v1/namespaces/kube-system/configmaps/aws-auth',
      'GET /api/v1/namespaces/amazon-cloudwatch/configmaps/cluster-info',
    ]);
    const records = journalRecords(state);
    expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
    expect(records.filter((record) => EKS_FILES.test(record.resource))).toEqual([]);
  });

  it('the app itself reading the token and sending data to the API server: journaled and denied, nothing reaches it', async () => {
    const { outcome, state } = await inKubernetes(`
const token = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token', 'utf8');
const req = https.request({ host: 'kubernetes.default.svc', method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: { authorization: 'Bearer ' + token }, ca: fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt') });
req.on('error', (error) => report({ error: error.code }));
req.end(secret);
`);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(JSON.parse(outcome.app)).toEqual({ error: 'ERR_PROVENANCE_DENIED' });
    expect(outcome.connections).toBe(0);
    expect(outcome.requests).toEqual([]);
    const records = journalRecords(state);
    expect(records.some((record) => record.resource.endsWith('/serviceaccount/token'))).toBe(true);
    expect(records.some((record) => record.decision === 'deny' && record.resource === 'https://kubernetes.default.svc:443')).toBe(true);
  });
});
