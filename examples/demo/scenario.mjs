// The demo's story, as a reusable module: three instrumented services on loopback (a clinic and
// a research service in the EU, a billing partner in the US), driven through allowed flows, a
// residency denial, an integrity denial and a consent withdrawal, then the lineage of the final
// report and the verification of the journals. Every outcome is checked, not just printed:
// `runScenario` resolves with `ok: false` when anything did not happen as the story says.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { provenantJson } from './lib/cli.mjs';
import { lineageTree } from './lib/lineage-tree.mjs';
import { addRevocation, prepareService, startService } from './lib/services.mjs';

/** Node ids and regions, as the services' configs declare them. */
const SERVICES = {
  clinic: { node: 'eu-clinic-1', region: 'EU, eu-west-1' },
  research: { node: 'eu-research-1', region: 'EU, eu-central-1' },
  billing: { node: 'us-billing-1', region: 'US, us-east-1' },
};
/** SIGHUP makes a service reload its policy; signals and the IPC channel are not ordered, so wait a moment. */
const RELOAD_SETTLE_MS = 500;

/**
 * Run the whole story. `dir`: where the run's configs, data and journals go (default: a new
 * folder under the OS temp dir); `node`: the Node binary for the services and the CLI;
 * `env`: the environment the services start from (default this process's, so an
 * OTEL_EXPORTER_OTLP_ENDPOINT reaches them all); `log`: one line of output at a time.
 */
export async function runScenario({ dir, node = process.execPath, env = process.env, log = console.log } = {}) {
  const root = dir ?? realpathSync(mkdtempSync(join(tmpdir(), 'provenant-demo-')));
  const story = createStory(log, root);
  const run = await setUp(root, node, env);
  const result = { dir: root, stateDirs: run.stateDirs, ports: run.ports, checks: story.checks, ok: false };
  try {
    if (run.failure) throw run.failure;
    introduce(run, log);
    for (const step of [allowedFlows, residency, integrity, revocation]) await step(run, story, result);
    // Stopping flushes and closes every journal segment.
    await stopAll(run);
    await lineage(run, story, result);
    await journals(run, story, result);
  } catch (error) {
    story.check(false, '‼', `the demo stopped: ${error instanceof Error ? error.message : String(error)}`, 'the story runs to the end');
  } finally {
    await stopAll(run);
  }
  result.ok = story.checks.every((c) => c.ok);
  const failed = story.checks.filter((c) => !c.ok).length;
  log('');
  log(result.ok ? `All ${story.checks.length} expectations met.` : `${failed} of ${story.checks.length} expectations NOT met.`);
  return result;
}

/** Working copies, state dirs and ports for the three services, then start them. */
async function setUp(root, node, env) {
  const ports = { clinic: await freePort(), billing: await freePort() };
  const urls = { clinic: `http://127.0.0.1:${ports.clinic}`, billing: `http://127.0.0.1:${ports.billing}` };
  const places = {};
  for (const name of Object.keys(SERVICES)) {
    const folder = join(root, name);
    const stateDir = join(root, 'state', name);
    mkdirSync(stateDir, { recursive: true });
    places[name] = { dir: folder, stateDir, config: prepareService(name, folder, ports) };
  }
  const baseEnv = serviceEnvironment(env);
  const key = baseEnv.PROVENANT_KEY ?? randomBytes(32).toString('hex');
  const started = await Promise.allSettled(
    Object.keys(SERVICES).map((name) =>
      startService({
        name,
        dir: places[name].dir,
        node,
        env: {
          ...baseEnv,
          OTEL_SERVICE_NAME: name,
          PROVENANT_CONFIG: places[name].config,
          PROVENANT_STATE_DIR: places[name].stateDir,
          PROVENANT_KEY: key,
          PORT: String(ports[name] ?? 0),
          CLINIC_URL: urls.clinic,
          BILLING_URL: urls.billing,
        },
      }),
    ),
  );
  return {
    root,
    node,
    ports,
    urls,
    places,
    stateDirs: Object.values(places).map((p) => p.stateDir),
    services: Object.fromEntries(started.filter((s) => s.status === 'fulfilled').map((s) => [s.value.name, s.value])),
    failure: started.find((s) => s.status === 'rejected')?.reason,
    fileUri: (service, relative) => `file://${SERVICES[service].node}${join(places[service].dir, relative)}`,
  };
}

function stopAll(run) {
  return Promise.all(Object.values(run.services).map((service) => service.stop()));
}

function introduce({ ports, urls, services }, log) {
  log('provenant demo: three services, each with its own policy and journal');
  for (const [name, { region }] of Object.entries(SERVICES)) {
    const where = ports[name] ? urls[name] : 'client only';
    log(`   ${name.padEnd(9)} ${region.padEnd(17)} ${where.padEnd(23)} pid ${services[name].pid}`);
  }
}

async function allowedFlows({ services: { clinic, research, billing } }, story, result) {
  story.heading('1. Allowed flows');
  const cohort = await clinic.job('extract-cohort', {}, 'dr.ferreira');
  story.check(
    cohort.patients === 3,
    '✔',
    `clinic: pseudonymised cohort of ${cohort.patients} diabetes patients → ${cohort.file} (${cohort.bytes} bytes)`,
    'the clinic writes its cohort extract',
  );
  const study = await research.job('run-study', {}, 'analyst.kim');
  result.study = study;
  story.check(
    study.file !== undefined,
    '✔',
    `research: tariffs from billing (US) + cohort from clinic (EU) → ${study.file}: ${study.patients} patients, mean HbA1c ${study.meanHba1c}, ${study.costPerPatient} ${study.currency}/patient`,
    'research writes its report',
  );
  story.check(
    study.labels?.confidentiality === 'secret' && study.labels?.tags.includes('pii'),
    '✔',
    `the report's data carries its sources' labels: ${formatLabels(study.labels)}`,
    'the report data is secret and tagged pii',
  );
  const before = await billing.job('received');
  const usage = await clinic.job('send-usage', {}, 'clerk.novak');
  const delta = difference(await billing.job('received'), before);
  story.check(
    usage.status === 202 && delta.requests === 1 && delta.bytes > 0,
    '✔',
    `clinic → billing: November usage figures (internal, no PII): billing received ${delta.requests} request, ${delta.bytes} bytes`,
    'billing receives the usage figures',
  );
}

async function residency({ services: { clinic, billing } }, story, result) {
  story.heading("2. Residency: the clinic sends patient p-1003's invoice data to billing (US)");
  const before = await billing.job('received');
  const invoice = await clinic.job('send-invoice', { patient: 'p-1003' }, 'clerk.novak');
  const delta = difference(await billing.job('received'), before);
  const denial = invoice.error?.denied;
  result.residency = { denial, billing: delta };
  story.check(
    denial?.rule === 'pii-stays-in-eu',
    '✘',
    denial ? `denied by rule ${denial.rule}: ${denial.reason}` : `not denied: ${JSON.stringify(invoice)}`,
    'denied by pii-stays-in-eu',
  );
  story.check(
    delta.connections === 0 && delta.requests === 0 && delta.bytes === 0,
    '✔',
    `billing received nothing: ${delta.connections} connections, ${delta.requests} requests, ${delta.bytes} bytes`,
    'no connection, request or byte reaches billing',
  );
}

async function integrity({ places, urls }, story, result) {
  story.heading('3. Integrity: an unsigned upload from outside overwrites data/patients/p-1001.json');
  const record = join(places.clinic.dir, 'data/patients/p-1001.json');
  const hashBefore = sha256(record);
  const upload = await fetch(`${urls.clinic}/patients/p-1001`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'p-1001', name: 'Ana Ferreira', diagnoses: [], hba1c: [5.2], visits: 0 }),
  });
  const text = await upload.text();
  const body = text ? JSON.parse(text) : {};
  const hashAfter = sha256(record);
  result.integrity = { status: upload.status, denial: body.denied, hashBefore, hashAfter };
  story.check(
    upload.status === 403 && body.denied?.rule === 'integrity',
    '✘',
    body.denied
      ? `clinic answered ${upload.status}, denied by rule ${body.denied.rule}: ${body.denied.reason}`
      : `clinic answered ${upload.status} ${text}`,
    'denied by integrity',
  );
  story.check(
    hashBefore === hashAfter,
    '✔',
    `p-1001.json ${hashBefore === hashAfter ? 'unchanged' : 'CHANGED'}: sha256 ${hashBefore.slice(0, 16)}… before, ${hashAfter.slice(0, 16)}… after`,
    'the record is unchanged',
  );
}

async function revocation({ services: { clinic, research }, places, fileUri }, story, result) {
  story.heading('4. Revocation: patient p-1002 withdraws consent');
  addRevocation(places.clinic.config, 'data/patients/p-1002.json');
  clinic.signal('SIGHUP');
  story.note('clinic/provenant.yaml now has revoked: [data/patients/p-1002.json]; SIGHUP reloads it');
  await sleep(RELOAD_SETTLE_MS);
  const again = await research.job('run-study', {}, 'analyst.kim');
  const refused = again.refused;
  story.check(
    refused?.status === 403 && refused?.rule === 'revoked',
    '✘',
    refused
      ? `research asks for the cohort extract again: clinic withholds it (${refused.status}, rule ${refused.rule}: ${refused.reason})`
      : `research got the cohort extract again: ${JSON.stringify(again)}`,
    'the clinic refuses the extract derived from p-1002',
  );

  addRevocation(places.research.config, fileUri('clinic', 'data/patients/p-1002.json'));
  research.signal('SIGHUP');
  story.note("the clinic tells research, whose provenant.yaml now revokes that record's URI too");
  await sleep(RELOAD_SETTLE_MS);
  const publish = await research.job('publish-report', {}, 'analyst.kim');
  const denial = publish.error?.denied;
  result.revocation = { cohort: refused, publish: denial };
  story.check(
    denial?.rule === 'revoked',
    '✘',
    denial
      ? `research publishes its existing report: denied by rule ${denial.rule}: ${denial.reason}`
      : `research published its report: ${JSON.stringify(publish)}`,
    'publishing the report is denied as revoked',
  );
  const published = existsSync(join(places.research.dir, 'published/diabetes-2026.json'));
  story.check(!published, '✔', `published/diabetes-2026.json was ${published ? '' : 'not '}created`, 'nothing is published');
}

async function lineage({ node, stateDirs, fileUri, root, ports }, story, result) {
  story.heading('5. Upstream lineage of the report, across the three journals (provenant lineage --upstream)');
  const { json } = await provenantJson(node, ['lineage', fileUri('research', 'reports/diabetes-2026.json'), '--upstream'], stateDirs);
  result.lineage = json;
  const tree = lineageTree(json, (uri) => describeResource(uri, root, ports));
  for (const line of tree.lines) story.line(line);
  const hops = tree.depth.get(fileUri('clinic', 'data/patients/p-1001.json'));
  story.check(
    hops === 2,
    '✔',
    `patient record p-1001.json is ${hops} hops upstream (report ← cohort extract ← record)`,
    'the patient record is two hops upstream',
  );
  story.check(
    tree.depth.has(fileUri('billing', 'data/tariffs/2026.json')),
    '✔',
    "billing's tariff sheet is upstream too: the report draws on all three services",
    'the tariff sheet is upstream',
  );
}

async function journals({ node, stateDirs }, story, result) {
  story.heading('6. Journals');
  const denials = await provenantJson(node, ['query', '--decision', 'deny', '--limit', '1000'], stateDirs);
  const byRule = countBy(denials.json.records, (r) => r.rule);
  result.denials = denials.json.records;
  story.check(
    ['pii-stays-in-eu', 'integrity', 'revoked'].every((rule) => byRule[rule] > 0),
    '✔',
    `denials recorded: ${
      Object.entries(byRule)
        .map(([rule, n]) => `${rule} ×${n}`)
        .join(', ') || 'none'
    }`,
    'every denial is in the journals',
  );
  const verify = await provenantJson(node, ['verify'], stateDirs);
  result.verify = verify.json;
  story.check(
    verify.code === 0 && verify.json.ok,
    '✔',
    `provenant verify: ${verify.json.segments.length} segments, ${verify.json.records} records: hashes, Merkle roots and checkpoints verify (${verify.json.failures.length} failures)`,
    'the journals verify',
  );
}

/**
 * Output with checks: `check` prints a fact with its mark (✔ allowed/true, ✘ denied) or flags
 * it. The run folder is printed as `/…` to keep lines readable.
 */
function createStory(log, root) {
  const checks = [];
  const short = (text) => text.replaceAll(root, '/…');
  return {
    checks,
    heading: (text) => log(`\n${text}`),
    note: (text) => log(`   • ${short(text)}`),
    line: (text) => log(`     ${text}`),
    check(ok, mark, text, expectation) {
      checks.push({ ok, expectation, text });
      log(ok ? `   ${mark} ${short(text)}` : `   ‼ ${short(text)}\n     (expected: ${expectation})`);
    },
  };
}

/** The caller's environment minus provenant settings of its own (each service gets its own). */
function serviceEnvironment(env) {
  const clean = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || (name.startsWith('PROVENANT_') && name !== 'PROVENANT_KEY') || name === 'OTEL_SERVICE_NAME') continue;
    clean[name] = value;
  }
  return clean;
}

/** A resource as the tree shows it: the node and the path inside the run folder, or the service an address belongs to. */
function describeResource(uri, root, ports) {
  const file = /^file:\/\/([^/]+)(\/.*)$/.exec(uri);
  if (file) return `${file[1]}: ${file[2].startsWith(`${root}/`) ? file[2].slice(root.length + 1) : file[2]}`;
  const port = Number(/:(\d+)$/.exec(uri)?.[1]);
  const owner = Object.keys(ports).find((name) => ports[name] === port);
  return owner ? `${uri} (${owner}'s API)` : uri;
}

function formatLabels(labels) {
  if (!labels) return '(none)';
  const tags = labels.tags.length > 0 ? `, tags ${labels.tags.join('+')}` : '';
  return `${labels.confidentiality}, integrity ${labels.integrity}${tags}, from ${labels.locations.join(' + ')}`;
}

function difference(after, before) {
  return Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - before[key]]));
}

function countBy(items, keyOf) {
  const counts = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
