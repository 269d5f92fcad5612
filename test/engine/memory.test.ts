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

it('a cache admitting repeats stores a key on its second set only, and a refused set drops a stale entry', () => {
  const cache = new BoundedCache<string | number, string>(1024, undefined, { admitRepeats: true });
  // A stream of keys that never repeat leaves the cache empty.
  for (let i = 0; i < 5000; i++) cache.set(`/users/${i}.json`, 'value');
  expect(cache.size).toBe(0);
  cache.set('/users/7.json', 'again');
  expect(cache.get('/users/7.json')).toBeUndefined();
  // Recent keys are remembered: the second set of each of the last 100 stores it.
  for (let i = 4900; i < 5000; i++) cache.set(`/users/${i}.json`, `v${i}`);
  expect(cache.size).toBeGreaterThan(90);
  expect(cache.get('/users/4999.json')).toBe('v4999');
  cache.set(42, 'first');
  cache.set(42, 'second');
  expect(cache.get(42)).toBe('second');
  // Once the key's sighting is overwritten by other keys, an update is refused and the old value goes with it.
  let refused = false;
  for (let i = 0; i < 100_000 && !refused; i++) {
    cache.set(i + 1_000_000, 'other');
    cache.set(42, `updated ${i}`);
    const now = cache.get(42);
    if (now === undefined) refused = true;
    else expect(now).toBe(`updated ${i}`);
  }
  expect(refused).toBe(true);
  const plain = new BoundedCache<string, string>(1024);
  plain.set('once', 'v');
  expect(plain.get('once')).toBe('v');
});
