// The auditable organ-transport scenario: four unmodified services under the preload, facts
// attested from their HTTP traffic by config, and a monitor at the drone operator. Every step
// is checked; `ok` is false when any expected outcome did not happen.
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);
const REGISTER = require.resolve('provenant/register');
const CLI = join(REGISTER, '..', 'cli', 'main.js');
const { encodeEvidence, EVIDENCE_HEADER } = require(join(REGISTER, '..', 'monitor', 'evidence.js'));
const { makeFact } = require(join(REGISTER, '..', 'monitor', 'facts.js'));
const { ServiceIdentity } = require(join(REGISTER, '..', 'propagation', 'identity.js'));

const SERVICES = { drone: 'drone', resources: 'resources', broker: 'broker', user: 'frontend' };
const COURIER_DELAY_MS = 2300;

export async function runScenario({
  dir = mkdtempSync(join(tmpdir(), 'provenant-auditable-')),
  node = process.execPath,
  env = process.env,
  log = console.log,
} = {}) {
  const checks = [];
  const check = (ok, text) => {
    checks.push({ ok, text });
    log(`   ${ok ? '✔' : '✘'} ${text}`);
  };
  cpSync(join(HERE, 'config'), join(dir, 'config'), { recursive: true });
  mkdirSync(join(dir, 'config', 'keys'), { recursive: true });
  const keys = {};
  for (const service of Object.keys(SERVICES)) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    keys[service] = privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(dir, 'config', 'keys', `${service}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const ports = {};
  const running = [];
  const start = async (service) => {
    const cwd = join(dir, service);
    mkdirSync(cwd, { recursive: true });
    const child = spawn(node, ['-r', REGISTER, join(HERE, 'services', `${SERVICES[service]}.mjs`)], {
      cwd,
      env: {
        ...env,
        PROVENANT_CONFIG: join(dir, 'config', `${service}.yaml`),
        PROVENANT_STATE_DIR: join(dir, 'state', service),
        PROVENANT_IDENTITY_KEY: keys[service],
        PROVENANT_KEY: 'auditable-demo-shared-baggage-key',
        BROKER_PORT: String(ports.broker),
        RESOURCES_PORT: String(ports.resources),
        DRONE_PORT: String(ports.drone),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    let output = '';
    child.stderr.on('data', (chunk) => (output += chunk));
    ports[service] = await new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const match = /listening (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`${service} exited (${code}) before listening:\n${output}`)));
    });
  };
  const http = (service, method, path, body, headers = {}) =>
    fetch(`http://127.0.0.1:${ports[service]}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body && JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: await res.json() }));
  const launches = () =>
    existsSync(join(dir, 'drone', 'launches.log'))
      ? readFileSync(join(dir, 'drone', 'launches.log'), 'utf8')
          .split('\n')
          .filter(Boolean)
      : [];

  try {
    for (const service of ['drone', 'resources', 'broker', 'user']) await start(service);
    log('provenant auditable demo: four services, each with its own Ed25519 identity and journal');
    log(
      `   user front end :${ports.user}   broker :${ports.broker}   resource manager :${ports.resources}   drone operator :${ports.drone}`,
    );
    log(
      '   the drone operator launches only when attested(resources, mission(M, B)), attested(broker, booking_confirmed(B)) and attested(user, booking_request(B)) hold',
    );

    log('\n1. A booking goes through: user → broker → resource manager → drone operator');
    const normal = await http('user', 'POST', '/bookings/b-100', { mission: 'm-100', organ: 'kidney' });
    check(
      normal.status === 200 && normal.body.launch.status === 200,
      `ready-to-fly for m-100 accepted (HTTP ${normal.body?.launch?.status}); each hop carried the signed facts of the previous ones`,
    );
    check(launches().includes('m-100'), 'the drone launched m-100 (launches.log)');

    log('\n2. An attacker sends ready-to-fly straight to the drone operator');
    const attack = await http('drone', 'POST', '/missions/m-666/ready-to-fly', {});
    check(
      attack.status === 403 && attack.body.missing === 'attested(resources, mission(m-666, B))',
      `refused before the handler ran: HTTP ${attack.status}, missing premise ${attack.body.missing}`,
    );
    const forger = new ServiceIdentity({
      service: 'broker',
      identityKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      trusted: [],
    });
    const forged = encodeEvidence([
      makeFact('resources', 'mission', ['m-667', 'b-667'], Date.now(), forger),
      makeFact('broker', 'booking_confirmed', ['b-667'], Date.now(), forger),
      makeFact('user', 'booking_request', ['b-667'], Date.now(), forger),
    ]);
    const forgedAttack = await http('drone', 'POST', '/missions/m-667/ready-to-fly', {}, { [EVIDENCE_HEADER]: forged });
    check(
      forgedAttack.status === 403,
      `with evidence signed by a key none of those services holds: refused too (HTTP ${forgedAttack.status}, missing ${forgedAttack.body.missing})`,
    );
    check(
      !launches().includes('m-666') && !launches().includes('m-667'),
      `no launch happened: launches.log holds ${launches().join(', ')}`,
    );

    log(`\n3. The organ is late: ready-to-fly comes ${COURIER_DELAY_MS / 1000} s after the broker confirmed (allowed: 2 s)`);
    const late = await http('user', 'POST', '/bookings/b-200', { mission: 'm-200', organ: 'liver', courierDelayMs: COURIER_DELAY_MS });
    check(late.body.launch.status === 200, 'trust-then-verify: the launch was not held up');
    const violation = await waitForRecord(
      join(dir, 'state', 'drone'),
      (r) => r.op === 'monitor' && r.rule === 'launch-in-time' && r.action === 'timely(m-200)',
    );
    check(
      violation?.record.decision === 'violation' && /beyond 2s/.test(violation.record.reason),
      `flagged off the request path as a violation: ${violation?.record.reason}`,
    );

    log('\n4. Asked later, the broker denies having confirmed booking b-100');
    const denial = await http('broker', 'GET', '/bookings/b-100');
    log(`   broker says: ${JSON.stringify(denial.body)}`);
    const permit = await waitForRecord(
      join(dir, 'state', 'drone'),
      (r) => r.op === 'monitor' && r.rule === 'launch-needs-booking' && r.action === 'launch(m-100)',
    );
    const explained =
      permit &&
      (await run(node, [CLI, 'explain', `${permit.segment}:${permit.record.seq}`, '--config', join(dir, 'config', 'drone.yaml')]));
    for (const line of (explained?.stdout ?? '').trimEnd().split('\n')) log(`     ${line}`);
    check(
      explained?.code === 0 && /✔ attested\(broker, booking_confirmed\(b-100\)\)/.test(explained.stdout),
      "contradicted: the drone's journal holds booking_confirmed(b-100) signed with the broker's own key (provenant explain verifies it)",
    );
  } finally {
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(
      running.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)),
    );
  }
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  log(`\n${ok ? 'All' : 'Not all'} ${checks.length} expectations met.`);
  return { ok, dir, checks };
}

function run(node, args) {
  return new Promise((resolve) =>
    execFile(node, args, (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr })),
  );
}

/** The first journal record matching `predicate`, waiting for the batch flush (bounded, not a timing assertion). */
async function waitForRecord(stateDir, predicate, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const journal = join(stateDir, 'journal');
    for (const name of existsSync(journal) ? readdirSync(journal) : []) {
      const segment = join(journal, name);
      for (const line of readFileSync(segment, 'utf8').split('\n')) {
        if (!line.startsWith('{"seq":')) continue;
        const record = JSON.parse(line);
        if (predicate(record)) return { record, segment };
      }
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
