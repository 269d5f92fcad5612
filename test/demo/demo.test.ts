/**
 * The end-to-end demo (`npm run demo`) as a test: the same scenario, with its three
 * instrumented services, asserted on what actually happened — the denials and their rules,
 * nothing reaching billing, the record unchanged, the report's lineage across services, the
 * journals verifying — and, with an OTLP endpoint, the denials arriving as spans.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { demoFiles, runDemo } from '../helpers/demo.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

afterAll(cleanupTempDirs);

describe('npm run demo', () => {
  it('denies what the policies forbid, keeps the lineage across services and verifies its journals', async () => {
    const { result, output } = await runDemo();
    expect(
      result.checks.filter((c) => !c.ok),
      output,
    ).toEqual([]);
    expect(result.ok).toBe(true);

    // Residency: PII towards the US service is stopped before any connection.
    expect(result.residency.denial?.rule).toBe('pii-stays-in-eu');
    expect(result.residency.billing).toEqual({ connections: 0, requests: 0, bytes: 0 });

    // Integrity: the unsigned upload is refused and the record is byte-for-byte the same.
    expect(result.integrity.status).toBe(403);
    expect(result.integrity.denial?.rule).toBe('integrity');
    expect(result.integrity.hashAfter).toBe(result.integrity.hashBefore);

    // Revocation: data derived before the withdrawal is denied afterwards, at both services.
    expect(result.revocation.cohort).toMatchObject({ status: 403, rule: 'revoked' });
    expect(result.revocation.publish?.rule).toBe('revoked');

    // Lineage: report (research) ← cohort extract (clinic) ← patient record (clinic).
    const { lineage } = result;
    const { report, extract, record, tariffs } = demoFiles(result.dir);
    expect(lineage.resource).toBe(report);
    const nodes = lineage.nodes.map((n) => n.resource);
    expect(nodes).toEqual(expect.arrayContaining([extract, record, tariffs]));
    expect(lineage.edges).toContainEqual(expect.objectContaining({ from: extract, to: report, service: 'research' }));
    expect(lineage.edges).toContainEqual(expect.objectContaining({ from: record, to: extract, service: 'clinic' }));
    // The attacker's refused overwrite (step 3) does not relabel the record (issue 10, bug 4).
    expect(lineage.nodes.find((n) => n.resource === record)?.labels).toMatchObject({
      confidentiality: 'secret',
      integrity: 'high',
      tags: ['pii'],
    });

    // The journals hold every denial and verify.
    expect(new Set(result.denials.map((d) => `${d.service}:${d.rule}`))).toEqual(
      new Set(['clinic:pii-stays-in-eu', 'clinic:integrity', 'clinic:revoked', 'research:revoked']),
    );
    expect(result.verify.ok).toBe(true);
    expect(result.verify.failures).toEqual([]);
  });

  it('exports its denials as provenant.deny spans to an OTLP endpoint', async () => {
    let receiver: OtlpReceiver | undefined;
    try {
      receiver = await startOtlpReceiver();
      const { result, output } = await runDemo({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint });
      expect(result.ok, output).toBe(true);
      const rules = ['pii-stays-in-eu', 'integrity', 'revoked'];
      const spans = await receiver.waitForSpans((all) =>
        rules.every((rule) => all.some((s) => s.name === 'provenant.deny' && s.attributes['provenant.rule'] === rule)),
      );
      const denials = spans.filter((s) => s.name === 'provenant.deny');
      for (const span of denials) expect(span.attributes['provenant.decision']).toBe('deny');
      expect(new Set(denials.map((s) => `${String(s.resource['service.name'])}:${String(s.attributes['provenant.rule'])}`))).toEqual(
        new Set(['clinic:pii-stays-in-eu', 'clinic:integrity', 'clinic:revoked', 'research:revoked']),
      );
      // Every service exported its flows, not only the ones that denied.
      expect(new Set(spans.map((s) => s.resource['service.name']))).toEqual(new Set(['clinic', 'research', 'billing']));
    } finally {
      await receiver?.close();
    }
  });
});
