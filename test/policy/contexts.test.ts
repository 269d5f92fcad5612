// 1,000 concurrent request contexts, interleaved through awaits, timers and immediates, each
// reading different sources with different labels: each sees only its own provenance and gets
// the decision its own labels call for.
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FlowContexts } from '../../src/provenance/context.js';
import { fixture } from './helpers.js';

const LEVELS = ['public', 'internal', 'confidential', 'secret'] as const;

describe('concurrent flow contexts', () => {
  it('1,000 interleaved contexts do not leak provenance into each other or the process context', async () => {
    const f = fixture(`
resources:
${LEVELS.map((level) => `  - { match: { path: "/in/${level}/**" }, labels: { confidentiality: ${level}, tags: [${level}-tag] } }`).join('\n')}
  - { match: { path: "/out/internal/**" }, labels: { confidentiality: internal } }
`);
    const contexts = new FlowContexts(f.sets, { granularity: 'request', inheritProcessContext: false });
    const read = (path: string): void => {
      const context = contexts.current();
      const resource = f.registry.file(path);
      context.provenance = f.sets.withSource(context.provenance, resource.uri, f.policy.labelsOf(resource));
    };
    const pause = (i: number, step: number): Promise<unknown> =>
      (i + step) % 3 === 0 ? sleep((i * 7 + step) % 5) : (i + step) % 3 === 1 ? immediate() : Promise.resolve();

    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        contexts.runIn('request', async () => {
          const level = LEVELS[i % LEVELS.length];
          const own = [`/in/${level}/${i}/a.json`, `/in/${level}/${i}/b.json`, `/in/public/${i}/c.json`];
          for (const [step, path] of own.entries()) {
            await pause(i, step);
            read(path);
          }
          await pause(i, 3);
          const provenance = contexts.current().provenance;
          return { i, level, own, provenance, decision: f.policy.decide(provenance, f.registry.file('/out/internal/report.json')) };
        }),
      ),
    );

    for (const { i, level, own, provenance, decision } of results) {
      expect(provenance.sources).toEqual(own.map((path) => `file://n1${path}`).sort());
      expect(f.schema.toPublic(provenance.labels).confidentiality).toBe(level);
      expect(provenance.labels.tags).toEqual(level === 'public' ? ['public-tag'] : [`${level}-tag`, 'public-tag'].sort());
      const allowed = LEVELS.indexOf(level) <= LEVELS.indexOf('internal');
      expect(decision.kind, `context ${i} (${level})`).toBe(allowed ? 'allow' : 'deny');
      if (!allowed)
        expect(decision.reason).toBe(
          `data is ${level} (from file://n1/in/${level}/${i}/a.json) but file://n1/out/internal/report.json is internal`,
        );
    }
    expect(contexts.current()).toBe(contexts.process);
    expect(contexts.process.provenance).toBe(f.sets.empty);
  });
});
