// Running the demo's services: each gets a working copy of its folder (config and data) in the
// run directory, its own state dir, and runs as a child process with provenant preloaded. The
// driver talks to it over the IPC channel ("jobs"), which is outside the policed data plane.
import { fork } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, visit } from 'yaml';

const SERVICES_DIR = fileURLToPath(new URL('../services/', import.meta.url));
const REGISTER = createRequire(import.meta.url).resolve('provenant/register');
/** The ports written in the checked-in configs, replaced by the ones picked for this run. */
const CONFIG_PORTS = { clinic: 7301, billing: 7303 };

/** Copy a service's config and data into `dir`, pointing its port matchers at this run's ports. */
export function prepareService(name, dir, ports) {
  cpSync(join(SERVICES_DIR, name), dir, { recursive: true, filter: (src) => !src.endsWith('.mjs') });
  const config = join(dir, 'provenant.yaml');
  const replace = new Map(Object.entries(CONFIG_PORTS).map(([service, port]) => [port, ports[service]]));
  editYaml(config, (doc) =>
    visit(doc, {
      Pair(_, pair) {
        if (pair.key?.value === 'port' && replace.has(pair.value?.value)) pair.value.value = replace.get(pair.value.value);
      },
    }),
  );
  return config;
}

/** Add `entry` to the config's `revoked:` list (the running service reloads it on SIGHUP). */
export function addRevocation(config, entry) {
  editYaml(config, (doc) => {
    const list = doc.get('revoked');
    if (list) list.add(entry);
    else doc.set('revoked', [entry]);
  });
}

function editYaml(file, edit) {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  edit(doc);
  writeFileSync(file, doc.toString());
}

/**
 * Start `services/<name>/service.mjs` under `node -r provenant/register`, in `dir`, with `env`
 * as its whole environment, and resolve once it has said it is ready.
 */
export function startService({ name, dir, node, env }) {
  const child = fork(join(SERVICES_DIR, name, 'service.mjs'), [], {
    cwd: dir,
    execPath: node,
    execArgv: ['-r', REGISTER],
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const pending = new Map();
  let nextId = 1;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(({ code, signal }) => {
    for (const { reject } of pending.values()) reject(new Error(`${name} exited (${signal ?? code}) during a job\n${output}`));
    pending.clear();
  });

  const service = {
    name,
    pid: child.pid,
    get output() {
      return output;
    },
    /** Run a job in the service; resolves with its result, or its error as data. */
    job(job, args, user) {
      const id = nextId++;
      child.send({ id, job, args, user });
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    signal(signal) {
      child.kill(signal);
    },
    /** SIGTERM, which provenant answers by flushing the journal before the process ends. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  child.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    waiter.resolve(message.error ? { error: message.error } : message.result);
  });

  return new Promise((resolve, reject) => {
    child.on('message', function ready(message) {
      if (!message.ready) return;
      child.off('message', ready);
      resolve(service);
    });
    exited.then(({ code, signal }) => reject(new Error(`${name} exited (${signal ?? code}) before it was ready\n${output}`)));
  });
}
