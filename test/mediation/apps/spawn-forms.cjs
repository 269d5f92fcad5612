'use strict';
// Every child_process form, each starting a child that would create out/public/ran-<form>
// (`touch`, through a shell for the exec forms, a Node script for fork). With argv[3] = 'secret'
// the process has read secret/a.txt first, and argv/stdin carry it. Prints one JSON line:
// {form: 'ran' | <error code> + rule}.
const fs = require('node:fs');
const path = require('node:path');
const cp = require('node:child_process');

const [root, mode] = process.argv.slice(2);
const data = mode === 'secret' ? fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8') : 'nothing secret\n';
const marker = (form) => path.join(root, 'out', 'public', `ran-${form}`);
const result = {};
const failed = (error) => ({ code: error.code, rule: error.rule });

// The data goes in the environment (touch reads no stdin; the async spawn also writes it to stdin).
const env = { ...process.env, DATA: data };
const sync = {
  spawnSync: () => {
    const r = cp.spawnSync('touch', [marker('spawnSync')], { env });
    if (r.error) throw r.error;
  },
  execFileSync: () => cp.execFileSync('touch', [marker('execFileSync')], { env }),
  execSync: () => cp.execSync(`touch ${marker('execSync')}`, { env }),
};
for (const [form, run] of Object.entries(sync)) {
  try {
    run();
    result[form] = 'ran';
  } catch (error) {
    result[form] = failed(error);
  }
}

const viaEvents = (form, child) =>
  new Promise((resolve) => {
    let error;
    child.on('error', (e) => (error = e));
    child.on('close', () => resolve([form, error ? failed(error) : 'ran']));
  });
const viaCallback = (form, start) => new Promise((resolve) => start((error) => resolve([form, error ? failed(error) : 'ran'])));

const spawned = cp.spawn('touch', [marker('spawn')], { stdio: ['pipe', 'pipe', 'pipe'] });
spawned.stdin.on('error', () => {});
spawned.stdin.end(data);
Promise.all([
  viaEvents('spawn', spawned),
  viaCallback('execFile', (done) => cp.execFile('touch', [marker('execFile')], { env }, done)),
  viaCallback('exec', (done) => cp.exec(`touch ${marker('exec')}`, { env }, done)),
  viaEvents('fork', cp.fork(path.join(__dirname, 'touch.cjs'), [marker('fork')], { env })),
]).then((outcomes) => {
  for (const [form, outcome] of outcomes) result[form] = outcome;
  console.log(JSON.stringify(result));
});
