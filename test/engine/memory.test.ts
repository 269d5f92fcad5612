/**
 * Memory stays bounded when one context touches many files (a batch job, a build tool): each of
 * N sets holds O(N) sources, so any cache that keeps every set alive, or any key made of a set's
 * sources, grows with N². Caches are weighed by the sources they keep alive. The heap after N
 * steps is compared with the heap after N/4 steps in the same kind of fresh process. Nor does a
 * journal writer keep what requests of distinct users leave behind.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BoundedCache } from '../../src/support/bounded-cache.js';
import { repoRoot, runNode } from '../helpers/spawn.js';

const MiB = 2 ** 20;

/** The number a fixture prints (heap bytes) after `n` steps, in a fresh process. */
async function bytesAfter(fixture: string, n: number): Promise<number> {
  const result = await runNode({
    args: ['--expose-gc', join(__dirname, 'fixtures', fixture), join(repoRoot, 'dist'), String(n)],
    timeoutMs: 60_000,
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return Number(result.stdout);
}

it('a context that reads and writes 4,000 files keeps the heap flat (caches weighed by sources)', async () => {
  const small = await bytesAfter('many-sources.mjs', 1000);
  const large = await bytesAfter('many-sources.mjs', 4000);
  // Before caches were weighed, 4,000 steps held hundreds of MiB (intern keys of joined sources,
  // per-set policy facts, memos), and 1,000 steps already ~100 MiB.
  expect(large - small).toBeLessThan(16 * MiB);
  expect(large).toBeLessThan(64 * MiB);
}, 120_000);

it('a journal writer keeps nothing of requests whose flows and sets never repeat (distinct users)', async () => {
  // Before flows and sets were kept only from their second use, the segment's lookups held every
  // flow and set until their bounds (~5,000 flows, 16,384 sets): 5.2 MiB after 20,000 requests.
  const kept = await bytesAfter('distinct-flows.mjs', 20_000);
  expect(kept).toBeLessThan(MiB);
}, 120_000);

it('a weighed cache never holds more than its capacity in weight, and drops an entry heavier than half of it', () => {
  const cache = new BoundedCache<string, string[]>(100, (value) => value.length);
  for (let i = 0; i < 50; i++)
    cache.set(
      `k${i}`,
      Array.from({ length: 10 }, () => 'x'),
    );
  let held = 0;
  for (let i = 0; i < 50; i++) held += cache.get(`k${i}`)?.length ?? 0;
  expect(held).toBeLessThanOrEqual(100);
  expect(cache.get('k49')).toHaveLength(10);
  cache.set(
    'huge',
    Array.from({ length: 51 }, () => 'x'),
  );
  expect(cache.get('huge')).toBeUndefined();
});

it('a cache admitting repeats keeps one-off keys only in its window, and keys that recur after leaving it in the main cache', () => {
  const cache = new BoundedCache<string | number, string>(1024, undefined, { admitRepeats: true });
  // A stream of keys that never repeat leaves at most the window (1/64 of the capacity: 16).
  for (let i = 0; i < 5000; i++) cache.set(`/users/${i}.json`, 'value');
  expect(cache.size).toBeLessThanOrEqual(16);
  // A key used again soon is found in the window.
  cache.set('/users/soon.json', 'soon');
  expect(cache.get('/users/soon.json')).toBe('soon');
  // Keys set again after leaving the window enter the main cache, and one-off keys never evict them.
  for (let i = 0; i < 100; i++) cache.set(`/recurring/${i}`, 'first');
  for (let i = 0; i < 100; i++) cache.set(`/recurring/${i}`, `v${i}`);
  for (let i = 5000; i < 50_000; i++) cache.set(`/users/${i}.json`, 'value');
  let kept = 0;
  for (let i = 0; i < 100; i++) if (cache.get(`/recurring/${i}`) === `v${i}`) kept++;
  expect(kept).toBeGreaterThan(90);
  // The last value set is the one found, wherever it is kept.
  cache.set(42, 'first');
  cache.set(42, 'second');
  expect(cache.get(42)).toBe('second');
  cache.set('/recurring/1', 'updated');
  expect(cache.get('/recurring/1')).toBe('updated');
  // Composite number keys sharing their low bits (the policy's `set * 2^21 + destination`), interleaved,
  // are told apart by the doorkeeper: each set recurring after leaving the window enters the main cache.
  const decisions = new BoundedCache<number, string>(16_384, undefined, { admitRepeats: true, window: 16 });
  const key = (set: number): number => set * 2 ** 21 + 143;
  for (let round = 0; round < 2; round++) for (let set = 0; set < 100; set++) decisions.set(key(set), `d${set}`);
  let admitted = 0;
  for (let set = 0; set < 100; set++) if (decisions.get(key(set)) === `d${set}`) admitted++;
  expect(admitted).toBeGreaterThan(95);
  const plain = new BoundedCache<string, string>(1024);
  plain.set('once', 'v');
  expect(plain.get('once')).toBe('v');
});
