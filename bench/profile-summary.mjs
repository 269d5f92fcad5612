// Sums a V8 .cpuprofile (node --cpu-prof) per function: self time and inclusive time (a function
// counted once per sample however deep it recurses), as a share of all samples and of busy
// (non-idle) samples. A .heapprofile (bench/alloc-profile.cjs) is summed the same way in bytes
// allocated, with `--requests N` giving bytes per request. Frames of the bundle (dist/provenant.js, whitespace-minified) are mapped to
// src/ through its linked source map, so a row names the TypeScript file and line.
//
//   node bench/profile-summary.mjs PROFILE.cpuprofile|PROFILE.heapprofile [--top 40] [--only src/] [--sort self|total]
//     [--stacks NAME] [--requests N]
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
const requests = Number(option('requests', 0));
const raw = JSON.parse(readFileSync(file, 'utf8'));
/** A heap profile is a tree of allocation sites; flattened to the CPU profile's node list. */
const heap = raw.head !== undefined;
const profile = heap ? flattenHeap(raw.head) : raw;

/** Source maps by script URL, loaded once; null when the script has none. */
const maps = new Map();
function mapFor(url) {
  if (maps.has(url)) return maps.get(url);
  let map = null;
  // CPU profiles name scripts by file URL, heap profiles by path
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
// descheduled gets one long delta, which would land on whatever frame was sampled next.
const tick = heap ? 0 : [...profile.timeDeltas].sort((a, b) => a - b)[profile.timeDeltas.length >> 1];
/** [node id, weight]: a CPU sample weighs one interval, an allocation site its bytes. */
const weighted = heap ? profile.nodes.map((node) => [node.id, node.selfSize]) : profile.samples.map((id) => [id, tick]);
const self = new Map();
const total = new Map();
let all = 0;
let idle = 0;
for (const [id, dt] of weighted) {
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
  for (const [id, dt] of weighted) {
    const frames = [];
    for (let at = id; at !== undefined; at = parent.get(at)) frames.push(names.get(at));
    const from = frames.findIndex((name) => name.includes(stacksOf));
    if (from === -1) continue;
    const key = frames.slice(from, from + 8).join('\n    <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + dt);
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
const perRequest = (value) => (requests > 0 ? ` ${(value / requests).toFixed(0).padStart(6)} B/req` : '');
if (heap) console.log(`${file}: ${(all / 1024).toFixed(0)} KiB allocated${perRequest(all)}; shares of all bytes (self, then with callees)`);
else console.log(`${file}: ${(all / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy; shares of busy time`);
console.log(' self   total  function');
for (const row of rows) console.log(`${pct(row.self)} ${pct(row.total)}${heap ? perRequest(row.self) : ''}  ${row.name}`);

function flattenHeap(head) {
  const nodes = [];
  const visit = (node) => {
    nodes.push({ id: node.id, callFrame: node.callFrame, selfSize: node.selfSize, children: node.children.map((child) => child.id) });
    for (const child of node.children) visit(child);
  };
  visit(head);
  return { nodes };
}
