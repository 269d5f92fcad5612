// Runtime monitors on a two-hop request: a client posts /orders/:id to a gateway, which calls a
// warehouse (POST /orders/:id/ship); the warehouse's monitor requires attested(gateway, ordered(O)),
// which the gateway attests (config `attest:`) when the order arrives. Both services run under
// the preload with Ed25519 identities and the journal on; only the monitoring differs:
//   none        no attest, no monitor
//   ttv         trust-then-verify: the check runs off the request path
//   vtt         verify-then-trust, the gateway's signed fact travels in the request (evidence header)
//   vtt-fetch   verify-then-trust, no evidence in the request: the warehouse fetches it from the
//               gateway's evidence endpoint (one extra round trip per order)
// Reported per mode: requests/s and latency at the client, CPU of both services per order
// (utime+stime from /proc), journal bytes per order, and non-2xx answers (must be 0).
//
//   npm run build && node bench/monitor.mjs [--duration 5] [--connections 10]
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const register = path.join(root, 'dist', 'register.js');
const MODES = ['none', 'ttv', 'vtt', 'vtt-fetch'];
const RULE = 'permit ship(O) :- attested(gateway, ordered(O)).';

if (process.argv[2] === 'serve') serve(process.argv[3]);
else await main();

function serve(role) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (role === 'warehouse') return res.end('{"shipped":true}');
      const out = http.request(
        { host: '127.0.0.1', port: Number(process.env.BENCH_BACK), method: 'POST', path: `${req.url}/ship` },
        (answer) => {
          answer.resume();
          answer.on('end', () => {
            res.statusCode = answer.statusCode;
            res.end('{"ok":true}');
          });
        },
      );
      out.end();
    });
  });
  server.listen(Number(process.env.BENCH_PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

function freePort() {
  return new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function main() {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' } } });
  const autocannon = require('autocannon');
  const rows = [];
  for (const mode of MODES) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-monitor-'));
    const keys = Object.fromEntries(['gateway', 'warehouse'].map((name) => [name, generateKeyPairSync('ed25519')]));
    writeFileSync(path.join(dir, 'gateway.pub'), keys.gateway.publicKey.export({ type: 'spki', format: 'pem' }));
    // Ports chosen up front: each service names the other (the call, the evidence endpoint).
    const [gatewayPort, warehousePort] = [await freePort(), await freePort()];
    const warehouse = await start('warehouse', dir, mode, keys, warehousePort, gatewayPort);
    const gateway = await start('gateway', dir, mode, keys, gatewayPort, warehousePort);
    const cpuBefore = cpuTicks(gateway.pid) + cpuTicks(warehouse.pid);
    let next = 0;
    const result = await autocannon({
      url: `http://127.0.0.1:${gateway.port}`,
      connections: Number(values.connections),
      duration: Number(values.duration),
      requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, path: `/orders/o-${++next}` }) }],
    });
    const cpuTicksUsed = cpuTicks(gateway.pid) + cpuTicks(warehouse.pid) - cpuBefore;
    await gateway.stop();
    await warehouse.stop();
    const orders = result.requests.total;
    rows.push({
      mode,
      'req/s': result.requests.average,
      'mean ms': result.latency.mean,
      'p99 ms': result.latency.p99,
      'CPU µs/order': (cpuTicksUsed * (1e6 / 100)) / orders,
      'journal bytes/order': journalBytes(dir) / orders,
      'non-2xx': result.non2xx + result.errors,
    });
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(
    rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(4)) : v]))),
  );
  console.log(
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0].model}, --duration ${values.duration} --connections ${values.connections}`,
  );
}

async function start(role, dir, mode, keys, ownPort, peerPort) {
  const backPort = role === 'gateway' ? peerPort : undefined;
  const evidencePort = role === 'warehouse' && mode === 'vtt-fetch' ? peerPort : undefined;
  const config = path.join(dir, `${role}.yaml`);
  const lines = [`service: ${role}`, 'node: bench', 'trust:'];
  // vtt-fetch: the gateway does not send evidence (the warehouse is not a trusted peer of it).
  lines.push(`  peers: [${mode === 'vtt-fetch' && role === 'gateway' ? '' : '"127.0.0.1"'}]`);
  if (role === 'warehouse') {
    lines.push(
      `  identities: [{ service: gateway, publicKey: gateway.pub${evidencePort ? `, evidence: "http://127.0.0.1:${evidencePort}"` : ''} }]`,
    );
    if (mode !== 'none') {
      lines.push('monitors:', '  - id: ship-needs-order', '    on: { method: POST, route: "/orders/:O/ship" }');
      lines.push(
        `    mode: ${mode === 'ttv' ? 'trust-then-verify' : 'verify-then-trust'}`,
        `    fetchEvidence: ${mode === 'vtt-fetch'}`,
        `    rule: "${RULE}"`,
      );
    }
  } else if (mode !== 'none') {
    lines.push('attest:', '  - on: { method: POST, route: "/orders/:O" }', '    when: request', '    fact: ordered(O)');
  }
  writeFileSync(config, lines.join('\n') + '\n');
  const child = spawn(process.execPath, ['-r', register, fileURLToPath(import.meta.url), 'serve', role], {
    env: {
      PATH: process.env.PATH,
      PROVENANT_CONFIG: config,
      PROVENANT_STATE_DIR: path.join(dir, 'state', role),
      PROVENANT_IDENTITY_KEY: keys[role].privateKey.export({ type: 'pkcs8', format: 'pem' }),
      PROVENANT_KEY: 'bench-shared-key',
      BENCH_PORT: String(ownPort),
      BENCH_BACK: String(backPort ?? ''),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${role} exited (${code})`)));
  });
  return {
    port,
    pid: child.pid,
    stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM')))),
  };
}

/** utime + stime of a process, in clock ticks (1/100 s on Linux). */
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function journalBytes(dir) {
  let total = 0;
  for (const role of ['gateway', 'warehouse']) {
    const journal = path.join(dir, 'state', role, 'journal');
    for (const name of readdirSync(journal)) total += statSync(path.join(journal, name)).size;
  }
  return total;
}
