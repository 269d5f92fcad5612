/**
 * The import rules of src/, read from the source text: folders import one way (no cycle between
 * folders), the leaves import nothing above them, and the engine reaches its sinks only through
 * the interfaces it owns. A new import that breaks a rule fails here with the file that made it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/spawn.js';

const srcDir = join(repoRoot, 'src');

interface Edge {
  readonly from: string;
  readonly to: string;
  /** The file that imports, relative to src/. */
  readonly file: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** A module's unit: its top folder under src/ (`engine`), or the file itself at the top (`index.ts`). */
function unitOf(file: string): string {
  const parts = relative(srcDir, file).split(sep);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, '');
}

/** Relative specifiers of static imports, re-exports, dynamic imports and require() calls. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

function edges(): Edge[] {
  const result: Edge[] = [];
  for (const file of sourceFiles(srcDir)) {
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
      const from = unitOf(file);
      const to = unitOf(target);
      if (from !== to) result.push({ from, to, file: relative(srcDir, file) });
    }
  }
  return result;
}

/** Strongly connected components of more than one unit (Tarjan). */
function cycles(all: readonly Edge[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of all) {
    if (!graph.has(from)) graph.set(from, new Set());
    if (!graph.has(to)) graph.set(to, new Set());
    graph.get(from)?.add(to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const all = edges();

function importsFrom(unit: string): Edge[] {
  return all.filter((edge) => edge.from === unit);
}

it('reads the imports of src/ (a broken reader would make every rule below pass vacuously)', () => {
  expect(all.some((edge) => edge.from === 'engine' && edge.to === 'policy')).toBe(true);
  expect(all.some((edge) => edge.from === 'instrumentation' && edge.to === 'engine')).toBe(true);
  expect(cycles([...all, { from: 'config', to: 'engine', file: 'synthetic' }]).length).toBeGreaterThan(0);
});

it('has no import cycle between folders', () => {
  expect(cycles(all)).toEqual([]);
});

it('keeps config and support as leaves: they import nothing of ours above them', () => {
  expect(importsFrom('config').filter((edge) => edge.to !== 'support')).toEqual([]);
  expect(importsFrom('support')).toEqual([]);
});

it('keeps provenance and policy below the engine, the instrumentations and the sinks', () => {
  const above = new Set(['engine', 'instrumentation', 'journal', 'lineage', 'runtime', 'cli', 'propagation', 'index', 'register']);
  for (const unit of ['provenance', 'policy']) expect(importsFrom(unit).filter((edge) => above.has(edge.to))).toEqual([]);
});

it('lets the engine reach journal, lineage and instrumentations only through interfaces it owns', () => {
  const sinks = new Set(['journal', 'lineage', 'instrumentation', 'runtime', 'cli', 'propagation']);
  expect(importsFrom('engine').filter((edge) => sinks.has(edge.to))).toEqual([]);
});

it('lets instrumentations reach propagation only through the PeerProtocol the runtime passes in', () => {
  expect(importsFrom('instrumentation').filter((edge) => edge.to === 'propagation')).toEqual([]);
  expect(importsFrom('propagation').filter((edge) => edge.to === 'instrumentation')).toEqual([]);
});

it('keeps the monitors (facts, rule language, evaluator) below the engine: they know nothing of HTTP, sinks or keys', () => {
  const above = new Set(['engine', 'instrumentation', 'journal', 'lineage', 'runtime', 'cli', 'propagation', 'index', 'register']);
  expect(importsFrom('monitor').filter((edge) => above.has(edge.to))).toEqual([]);
  expect(all.some((edge) => edge.from === 'engine' && edge.to === 'monitor')).toBe(true);
});
