// The propagation codec on its own: signing, verification reasons, egress stripping and W3C limits.
import { describe, expect, it } from 'vitest';
import { ProvenancePropagator } from '../../src/propagation/propagator';
import { BAGGAGE_MAX_MEMBER_BYTES, BAGGAGE_MAX_TOTAL_BYTES, splitBaggage } from '../../src/propagation/baggage';

const data = {
  labels: { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] },
  sources: ['file://n1/data/a b.json'],
};
const make = (options: Partial<ConstructorParameters<typeof ProvenancePropagator>[0]> = {}): ProvenancePropagator =>
  new ProvenancePropagator({
    service: 'a',
    location: 'eu-west-1',
    key: 'k',
    peers: ['127.0.0.1', '*.internal'],
    maxAgeSeconds: 60,
    ...options,
  });

describe('ProvenancePropagator', () => {
  it('round-trips a signed claim between trusted peers', () => {
    const header = make().outgoingBaggage('api.internal', 'user=1', data)!;
    expect(header.startsWith('user=1,provenant.v=1,')).toBe(true);
    const verdict = make().verify('127.0.0.1', header);
    expect(verdict).toMatchObject({
      trusted: true,
      claim: { service: 'a', location: 'eu-west-1', labels: data.labels, sources: data.sources },
    });
  });

  it('sends nothing of ours to an untrusted host and strips provenant members already there', () => {
    expect(make().outgoingBaggage('example.com', 'user=1,provenant.c=public', data)).toBe('user=1');
    expect(make().outgoingBaggage('example.com', undefined, data)).toBeUndefined();
    expect(make({ key: undefined }).outgoingBaggage('127.0.0.1', undefined, data)).toBeUndefined();
  });

  it.each([
    ['untrusted-peer', () => make().verify('10.9.9.9', make().outgoingBaggage('127.0.0.1', undefined, data))],
    ['unknown-key', () => make().verify('127.0.0.1', make({ key: 'other' }).outgoingBaggage('127.0.0.1', undefined, data))],
    ['no-key', () => make({ key: undefined }).verify('127.0.0.1', make().outgoingBaggage('127.0.0.1', undefined, data))],
    ['stale', () => make().verify('127.0.0.1', make({ now: () => Date.now() - 120_000 }).outgoingBaggage('127.0.0.1', undefined, data))],
    [
      'bad-signature',
      () =>
        make().verify(
          '127.0.0.1',
          make().outgoingBaggage('127.0.0.1', undefined, data)!.replace('provenant.loc=eu-west-1', 'provenant.loc=eu-west-2'),
        ),
    ],
    [
      'oversized',
      () =>
        make().verify('127.0.0.1', `${make().outgoingBaggage('127.0.0.1', undefined, data)},pad=${'x'.repeat(BAGGAGE_MAX_TOTAL_BYTES)}`),
    ],
    ['malformed', () => make().verify('127.0.0.1', 'provenant.c=%ZZ')],
  ])('reports %s, keeping what was claimed', (reason, run) => {
    const verdict = run();
    expect(verdict).toMatchObject({ trusted: false, reason });
    if (reason !== 'malformed') expect(verdict).toMatchObject({ claimed: { confidentiality: 'secret', tags: ['pii'] } });
  });

  it('stays within W3C limits: long source lists become a digest, user members keep their room', () => {
    const many = { ...data, sources: Array.from({ length: 500 }, (_, i) => `file://n1/very/long/path/${'d'.repeat(40)}/${i}.json`) };
    const user = `user=${'u'.repeat(3000)}`;
    const header = make().outgoingBaggage('127.0.0.1', user, many)!;
    expect(Buffer.byteLength(header)).toBeLessThanOrEqual(BAGGAGE_MAX_TOTAL_BYTES);
    for (const member of splitBaggage(header)) expect(Buffer.byteLength(member.raw)).toBeLessThanOrEqual(BAGGAGE_MAX_MEMBER_BYTES);
    expect(header).toContain(user);
    const verdict = make().verify('127.0.0.1', header);
    expect(verdict).toMatchObject({
      trusted: true,
      claim: { sources: [], sourceCount: 500, sourcesDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    });
  });
});
