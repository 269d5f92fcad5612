// Cost of signed claims per request, HTTP/1 against HTTP/2: one process is both a trusted client
// and a server on loopback (so a round trip signs and verifies a request claim and a response
// claim), with and without PROVENANT_KEY. Prints the CPU µs per round trip of that process
// (both ends), the median over rounds, for each protocol.
//
//   npm run build && node bench/claims-roundtrip.mjs [--requests 3000] [--rounds 3]
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, withoutTelemetryEnv } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const requests = option('requests', 3000);
const rounds = option('rounds', 3);

// Sequential requests over one keep-alive connection (HTTP/1) or one session (HTTP/2), after a warm-up.
const roundTrips = `
const [protocol, requests] = [process.argv[1], Number(process.argv[2])];
const http = require('node:' + protocol);
const measure = async (one, close) => {
  for (let i = 0; i < 300; i++) await one();
  const start = process.cpuUsage();
  for (let i = 0; i < requests; i++) await one();
  const used = process.cpuUsage(start);
  console.log((used.user + used.system) / requests);
  close();
};
if (protocol === 'http2') {
  const server = http.createServer();
  server.on('stream', (stream) => { stream.respond({ ':status': 200 }); stream.end('ok'); });
  server.listen(0, '127.0.0.1', () => {
    const session = http.connect('http://127.0.0.1:' + server.address().port);
    const one = () => new Promise((resolve) => { const s = session.request({ ':path': '/' }); s.resume(); s.on('end', resolve); s.end(); });
    measure(one, () => { session.close(); server.close(); });
  });
} else {
  const server = http.createServer((req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1', () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const port = server.address().port;
    const one = () => new Promise((resolve) => http.get({ host: '127.0.0.1', port, agent }, (res) => { res.resume(); res.on('end', resolve); }));
    measure(one, () => { agent.destroy(); server.close(); });
  });
}`;

const state = path.join(root, 'node_modules', '.cache', 'bench-claims-roundtrip');
mkdirSync(state, { recursive: true });
const config = path.join(state, 'provenant.yaml');
writeFileSync(config, 'service: bench\ntrust: { peers: ["127.0.0.1"] }\n');
const results = {};
for (let round = 0; round < rounds; round++) {
  for (const protocol of ['http', 'http2']) {
    for (const signed of [false, true]) {
      const env = { ...withoutTelemetryEnv(process.env), PROVENANT_STATE_DIR: state, PROVENANT_CONFIG: config };
      if (signed) env.PROVENANT_KEY = 'bench-key';
      else delete env.PROVENANT_KEY;
      const args = ['-r', path.join(root, 'dist', 'register.js'), '-e', roundTrips, protocol, String(requests)];
      const { stdout } = await promisify(execFile)(process.execPath, args, { env });
      (results[`${protocol} ${signed ? 'signed' : 'unsigned'}`] ??= []).push(Number(stdout.trim()));
    }
  }
}
for (const [variant, values] of Object.entries(results))
  console.log(`${variant}: CPU µs per round trip ${median(values).toFixed(0)} (${values.map((v) => v.toFixed(0)).join(', ')})`);
