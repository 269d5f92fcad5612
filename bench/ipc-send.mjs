// Cost of deciding Node's IPC messages: a forked child sends 100,000 small messages to this
// process through process.send, after reading a file (its context holds one source, so every
// send checks that the parent already holds it: the path a long-lived worker takes). Prints the
// child's CPU µs per send, plain and under the preload.
//
//   npm run build && node bench/ipc-send.mjs [--sends 100000] [--rounds 3]
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, withoutTelemetryEnv } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const sends = option('sends', 100_000);
const rounds = option('rounds', 3);

const sender = `
const fs = require('node:fs');
const sends = Number(process.argv[1]);
fs.readFileSync(${JSON.stringify(path.join(root, 'package.json'))});
const start = process.cpuUsage();
for (let i = 1; i < sends; i++) process.send('m');
process.send('m', () => {
  const used = process.cpuUsage(start);
  process.send({ perSend: (used.user + used.system) / sends });
});`;

/** One child's CPU µs per send. */
function run(preload) {
  return new Promise((resolve, reject) => {
    const child = fork('-e', [sender, String(sends)], {
      execArgv: preload ? ['-r', path.join(root, 'dist', 'register.js')] : [],
      env: { ...withoutTelemetryEnv(process.env), PROVENANT_STATE_DIR: path.join(root, 'node_modules', '.cache', 'bench-ipc-send') },
    });
    child.on('message', (message) => {
      if (typeof message === 'object') {
        resolve(message.perSend);
        child.disconnect();
      }
    });
    child.on('error', reject);
  });
}

const results = { plain: [], provenant: [] };
for (let round = 0; round < rounds; round++) {
  for (const variant of ['plain', 'provenant']) results[variant].push(await run(variant === 'provenant'));
}
const plain = median(results.plain);
const provenant = median(results.provenant);
const list = (values) => values.map((v) => v.toFixed(3)).join(', ');
console.log(
  `process.send, ${sends} messages, ${rounds} rounds: child CPU µs/send plain ${plain.toFixed(3)} (${list(results.plain)}), provenant ${provenant.toFixed(3)} (${list(results.provenant)}), ratio ${(provenant / plain).toFixed(2)}×`,
);
