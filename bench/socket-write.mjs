// Cost of the per-write decision on a raw TCP socket: 200,000 writes of 64 bytes to a loopback
// sink, in one context whose provenance does not change (the memoised path every long-lived
// connection takes). Prints CPU µs per write of the writing process, plain and under the preload.
//
//   npm run build && node bench/socket-write.mjs [--writes 200000] [--rounds 3]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, withoutTelemetryEnv } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const writes = option('writes', 200_000);
const rounds = option('rounds', 3);

const writer = `
const net = require('node:net');
const [port, writes] = process.argv.slice(1).map(Number);
const chunk = Buffer.alloc(64, 120);
const socket = net.connect(port, '127.0.0.1', () => {
  const start = process.cpuUsage();
  let sent = 0;
  const pump = () => {
    while (sent < writes) {
      sent++;
      if (!socket.write(chunk)) return socket.once('drain', pump);
    }
    const used = process.cpuUsage(start);
    console.log((used.user + used.system) / writes);
    socket.end();
  };
  pump();
});`;

const sink = net.createServer((socket) => socket.resume());
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
const port = sink.address().port;
const results = { plain: [], provenant: [] };
for (let round = 0; round < rounds; round++) {
  for (const variant of ['plain', 'provenant']) {
    const preload = variant === 'provenant' ? ['-r', path.join(root, 'dist', 'register.js')] : [];
    const env = {
      ...withoutTelemetryEnv(process.env),
      PROVENANT_STATE_DIR: path.join(root, 'node_modules', '.cache', 'bench-socket-write'),
    };
    // Asynchronously: the sink in this process must keep reading while the writer runs.
    const { stdout } = await promisify(execFile)(process.execPath, [...preload, '-e', writer, String(port), String(writes)], { env });
    results[variant].push(Number(stdout.trim()));
  }
}
sink.close();
const plain = median(results.plain);
const provenant = median(results.provenant);
console.log(
  `raw socket write, 64 B × ${writes}, ${rounds} rounds: CPU µs/write plain ${plain.toFixed(3)} (${results.plain.map((v) => v.toFixed(3)).join(', ')}), provenant ${provenant.toFixed(3)} (${results.provenant.map((v) => v.toFixed(3)).join(', ')}), ratio ${(provenant / plain).toFixed(2)}×`,
);
