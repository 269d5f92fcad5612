// Sums a V8 .cpuprofile (node --cpu-prof) per function: self time and inclusive time (a function
// counted once per sample however deep it recurses), as a share of all samples and of busy
// (non-idle) samples. Frames of the bundle (dist/provenant.js, whitespace-minified) are mapped to
// src/ through its linked source map, so a row names the TypeScript file and line.
// A .heapprofile (--heap-prof, or bench/survivors.cjs) is summed the same way in bytes allocated
// by each function (self) and under it (total), as shares of all bytes sampled.
//
//   node bench/profile-summary.mjs PROFILE.cpuprofile|PROFILE.heapprofile [--top 40] [--only src/] [--sort self|total] [--stacks NAME]
import { readFileSync, existsSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : args[at + 1];
};
const file = args[0];
const top = Number(option('top', 40));
const only = option('only', '');
const sortBy = option('sort', 'self');
/** `--stacks NAME`: the distinct stacks (leaf first, to depth 8) of samples whose stack holds a frame containing NAME. */
const stacksOf = option('stacks', '');
const profile = fromHeapProfile(JSON.parse(readFileSync(file, 'utf8')));

/**
 * A heap profile (a tree of frames with the bytes each allocated) as a CPU profile's nodes and
 * samples: one sample per node that allocated, weighed by its bytes, so the sums below apply.
 */
function fromHeapProfile(read) {
  if (read.head === undefined) return { ...read, weights: undefined };
  const nodes = [];
  const samples = [];
  const weights = [];
  const visit = (node) => {
    nodes.push({ id: node.id, callFrame: node.callFrame, children: node.children.map((child) => child.id) });
    if (node.selfSize > 0) {
      samples.push(node.id);
      weights.push(node.selfSize);
    }
    node.children.forEach(visit);
  };
  visit(read.head);
  return { nodes, samples, weights };
}

/** Source maps by script URL, loaded once; null when the script has none. */
const maps = new Map();
function mapFor(url) {
  if (maps.has(url)) return maps.get(url);
  let map = null;
  // CPU profiles name scripts by file:// URL, heap profiles by path.
  if (url.startsWith('file://') || url.startsWith('/')) {
    const scriptPath = url.startsWith('/') ? url : fileURLToPath(url);
    if (existsSync(`${scriptPath}.map`))
      map = { sourceMap: new SourceMap(JSON.parse(readFileSync(`${scriptPath}.map`, 'utf8'))), dir: path.dirname(scriptPath) };
  }
  maps.set(url, map);
  return map;
}

function frameName({ functionName, url, lineNumber, columnNumber }) {
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const map = mapFor(url);
  if (map) {
    const entry = map.sourceMap.findEntry(lineNumber, columnNumber);
    if (entry && entry.originalSource) {
      const source = path.relative(process.cwd(), path.resolve(map.dir, entry.originalSource.replace(/^file:\/\//, '')));
      return `${name} ${source}:${entry.originalLine + 1}`;
    }
  }
  const short = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'node_modules/');
  return `${name} ${short}:${lineNumber + 1}`;
}

const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const names = new Map(profile.nodes.map((node) => [node.id, frameName(node.callFrame)]));

// Every sample counts as the profile's median interval: on a loaded machine a thread that was
// descheduled gets one long delta, which would land on whatever frame was sampled next. A heap
// profile's sample counts its bytes.
const tick = profile.weights === undefined ? [...profile.timeDeltas].sort((a, b) => a - b)[profile.timeDeltas.length >> 1] : 1;
const weightOf = (i) => (profile.weights === undefined ? tick : profile.weights[i]);
const self = new Map();
const total = new Map();
let all = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = weightOf(i);
  const id = profile.samples[i];
  all += dt;
  const leaf = names.get(id);
  if (leaf.startsWith('(idle)')) {
    idle += dt;
    continue;
  }
  self.set(leaf, (self.get(leaf) ?? 0) + dt);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const name = names.get(at);
    if (seen.has(name)) continue;
    seen.add(name);
    total.set(name, (total.get(name) ?? 0) + dt);
  }
}
const busy = all - idle;
if (stacksOf) {
  const stacks = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const frames = [];
    for (let at = profile.samples[i]; at !== undefined; at = parent.get(at)) frames.push(names.get(at));
    const from = frames.findIndex((name) => name.includes(stacksOf));
    if (from === -1) continue;
    const key = frames.slice(from, from + 8).join('\n    <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + weightOf(i));
  }
  for (const [key, time] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((100 * time) / busy).toFixed(1).padStart(5)}%  ${key}`);
  process.exit(0);
}
const rows = [...total.keys()]
  .filter((name) => !only || name.includes(only))
  .map((name) => ({ name, self: self.get(name) ?? 0, total: total.get(name) }))
  .sort((a, b) => (sortBy === 'total' ? b.total - a.total : b.self - a.self))
  .slice(0, top);
const pct = (value) => `${((100 * value) / busy).toFixed(1).padStart(5)}%`;
if (profile.weights === undefined)
  console.log(`${file}: ${(all / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy; shares of busy time`);
else console.log(`${file}: ${(all / 2 ** 20).toFixed(1)} MiB sampled; shares of those bytes`);
console.log(' self   total  function');
for (const row of rows) console.log(`${pct(row.self)} ${pct(row.total)}  ${row.name}`);
