// Policy decision speed and memory. Run after a build: `npx tsc -p tsconfig.json && node bench/policy.mjs`.
// Prints p50/p99 of a cached decision, of a cold decision with 100 rules (every rule evaluated:
// none matches), and heapUsed before/after deciding for 1,000,000 distinct destinations.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfig } from '../dist/config/load.js';
import { LabelSchema } from '../dist/provenance/labels.js';
import { ProvenanceSets } from '../dist/provenance/provenance-set.js';
import { ResourceRegistry } from '../dist/provenance/resource.js';
import { compilePolicy } from '../dist/policy/compile.js';
import { reportRows } from './report.mjs';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const RULES = 100;
const SAMPLES = 20_000;
const rows = [];

/** 100 rules of mixed kinds; none matches the benchmark's flows, so a cold decision runs them all. */
function configYaml() {
  const lines = [
    'location: eu-west-1',
    'resources:',
    '  - { match: { path: "data/patients/**" }, labels: { confidentiality: secret, integrity: high, tags: [pii] } }',
    '  - { match: { path: "data/**" }, labels: { confidentiality: internal } }',
    '  - { match: { host: "*.us.example.com" }, labels: { confidentiality: secret, location: us-east-1 } }',
    '  - { match: { host: "*.example.com" }, labels: { confidentiality: secret, location: eu-west-1 } }',
    'rules:',
  ];
  for (let i = 0; i < RULES; i++) {
    switch (i % 5) {
      case 0:
        lines.push(`  - { id: r${i}, deny: { data: { tags: [tag${i}] }, destination: { location: { notIn: [eu-west-1] } } } }`);
        break;
      case 1:
        lines.push(`  - { id: r${i}, deny: { data: { sources: ["archive/${i}/**"] }, destination: { kind: [https, http] } } }`);
        break;
      case 2:
        lines.push(
          `  - { id: r${i}, deny: { data: { confidentiality: { atLeast: secret } }, destination: { host: "sink${i}.*.example.net" } } }`,
        );
        break;
      case 3:
        lines.push(`  - { id: r${i}, allow: { data: { tags: { all: [tag${i}, pii] } }, destination: { path: "exports/${i}/**" } } }`);
        break;
      default:
        lines.push(`  - { id: r${i}, deny: { data: { locations: { in: [ap-south-${i}] } }, destination: { service: "svc${i}-*" } } }`);
    }
  }
  return lines.join('\n') + '\n';
}

const config = parseConfig('/srv/app/provenant.yaml', configYaml(), {}, 'bench-node');
const schema = new LabelSchema(config.levels.confidentiality, config.levels.integrity);
const registry = new ResourceRegistry(config.node, 1 << 20);
const sets = new ProvenanceSets(schema.neutral);

function dataFrom(policy, ...paths) {
  let set = sets.empty;
  for (const path of paths) {
    const resource = registry.file(path);
    set = sets.withSource(set, resource.uri, policy.labelsOf(resource));
  }
  return set;
}

function percentiles(samples) {
  const sorted = Float64Array.from(samples).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

const us = (ns) => `${(ns / 1000).toFixed(3)} µs`;

function timeEach(count, fn) {
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - start);
  }
  return percentiles(samples);
}

// Memory first, before the other sections leave garbage behind: 1,000,000 distinct destinations
// through one policy and a default (bounded) resource registry; heapUsed sampled along the way.
{
  const bounded = new ResourceRegistry(config.node);
  const policy = compilePolicy(config, schema, 3);
  const data = [dataFrom(policy, '/srv/app/data/patients/1.json'), dataFrom(policy, '/srv/app/public/a.html'), sets.empty];
  const heap = () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const before = heap();
  const samples = [];
  let busy = 0n;
  for (let i = 0; i < 1_000_000; i++) {
    if (i % 250_000 === 0 && i > 0) samples.push(`${i / 1000}k: ${mb(heap())}`);
    const started = process.hrtime.bigint();
    policy.decide(data[i % 3], bounded.http('https', `h${i}.example.com`, 443));
    busy += process.hrtime.bigint() - started;
  }
  const after = heap();
  rows.push({
    bench: 'policy',
    metric: 'heap after 1,000,000 destinations',
    unit: 'MiB',
    better: 'lower',
    provenant: after / 2 ** 20,
    target: 'bounded',
  });
  // Use both after measuring, so V8 cannot collect them early and flatter the figure.
  const stillLive = policy.decide(data[0], bounded.http('https', 'h0.example.com', 443)).kind && bounded.size;
  console.log(
    `1,000,000 distinct destinations: heapUsed before ${mb(before)}, after ${mb(after)} (${samples.join(', ')}; registry ${stillLive} resources); ` +
      `${(1_000_000 / (Number(busy) / 1e9) / 1000).toFixed(0)}k cold decisions/s incl. interning the destination`,
  );
}

// Cached: 1,000 (set, destination) pairs decided once, then decided again in rotation.
{
  const policy = compilePolicy(config, schema, 1);
  const pairs = Array.from({ length: 1000 }, (_, i) => [
    dataFrom(policy, `/srv/app/data/patients/${i}.json`, `/srv/app/data/notes/${i % 10}.txt`),
    registry.http('https', `api${i % 50}.example.com`, 443),
  ]);
  for (const [set, destination] of pairs) policy.decide(set, destination);
  for (let i = 0; i < 200_000; i++) policy.decide(...pairs[i % pairs.length]);
  const cached = timeEach(SAMPLES * 5, (i) => policy.decide(...pairs[i % pairs.length]));
  rows.push({
    bench: 'policy',
    metric: 'cached decision p99',
    unit: 'µs',
    better: 'lower',
    provenant: cached.p99 / 1000,
    target: '≤ 2 µs',
  });
  console.log(`cached decision            p50 ${us(cached.p50)}   p99 ${us(cached.p99)}   (target p99 ≤ 2 µs)`);
}

// Cold: a new provenance set and a new destination every time, so nothing is memoised.
{
  const policy = compilePolicy(config, schema, 2);
  const warm = Array.from({ length: 2000 }, (_, i) => [
    dataFrom(policy, `/srv/app/data/w/${i}.json`),
    registry.http('https', `w${i}.example.org`, 443),
  ]);
  for (const [set, destination] of warm) policy.decide(set, destination);
  const cases = Array.from({ length: SAMPLES }, (_, i) => [
    dataFrom(policy, `/srv/app/data/patients/c${i}.json`, `/srv/app/data/misc/${i}.txt`),
    registry.http('https', `cold${i}.eu.example.org`, 443),
  ]);
  const decisions = new Map();
  const cold = timeEach(SAMPLES, (i) => {
    const decision = policy.decide(...cases[i]);
    decisions.set(decision.rule ?? decision.kind, (decisions.get(decision.rule ?? decision.kind) ?? 0) + 1);
  });
  rows.push({
    bench: 'policy',
    metric: `cold decision p99, ${RULES} rules`,
    unit: 'µs',
    better: 'lower',
    provenant: cold.p99 / 1000,
    target: '≤ 50 µs',
  });
  console.log(
    `cold decision, ${RULES} rules    p50 ${us(cold.p50)}   p99 ${us(cold.p99)}   (target ≤ 50 µs)   decided by: ${[...decisions].map(([k, v]) => `${k}×${v}`).join(', ')}`,
  );
}

reportRows(rows);
