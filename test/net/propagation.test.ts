// The propagation codec on its own: signing, verification reasons, egress stripping and W3C limits.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { ServiceIdentity } from '../../src/propagation/identity';
import { ProvenancePropagator } from '../../src/propagation/propagator';
import { ClaimSigner } from '../../src/propagation/signing';
import { BAGGAGE_MAX_MEMBER_BYTES, BAGGAGE_MAX_TOTAL_BYTES, formatMember, memberValue, splitBaggage } from '../../src/propagation/baggage';

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
    const verdict = make().receive('127.0.0.1', header).verdict;
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
    ['untrusted-peer', () => make().receive('10.9.9.9', make().outgoingBaggage('127.0.0.1', undefined, data))],
    ['unknown-key', () => make().receive('127.0.0.1', make({ key: 'other' }).outgoingBaggage('127.0.0.1', undefined, data))],
    ['no-key', () => make({ key: undefined }).receive('127.0.0.1', make().outgoingBaggage('127.0.0.1', undefined, data))],
    ['stale', () => make().receive('127.0.0.1', make({ now: () => Date.now() - 120_000 }).outgoingBaggage('127.0.0.1', undefined, data))],
    [
      'bad-signature',
      () =>
        make().receive(
          '127.0.0.1',
          make().outgoingBaggage('127.0.0.1', undefined, data)!.replace('provenant.loc=eu-west-1', 'provenant.loc=eu-west-2'),
        ),
    ],
    [
      'oversized',
      () =>
        make().receive('127.0.0.1', `${make().outgoingBaggage('127.0.0.1', undefined, data)},pad=${'x'.repeat(BAGGAGE_MAX_TOTAL_BYTES)}`),
    ],
    ['malformed', () => make().receive('127.0.0.1', 'provenant.c=%ZZ')],
  ])('reports %s, keeping what was claimed', (reason, run) => {
    const verdict = run().verdict;
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
    const verdict = make().receive('127.0.0.1', header).verdict;
    expect(verdict).toMatchObject({
      trusted: true,
      claim: { sources: [], sourceCount: 500, sourcesDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    });
  });
});

it('escapes exactly what baggage-octet forbids in a value, as UTF-8 per code point, and decodes back', () => {
  const sources = 'file://n1/data/a b.json\ntcp://10.0.0.1:443\nfile://n1/x,y;z\\"%é€😀~!*\'()';
  const member = formatMember('provenant.src', sources);
  expect(member).toBe(
    "provenant.src=file://n1/data/a%20b.json%0Atcp://10.0.0.1:443%0Afile://n1/x%2Cy%3Bz%5C%22%25%C3%A9%E2%82%AC%F0%9F%98%80~!*'()",
  );
  expect(memberValue(splitBaggage(member)[0])).toBe(sources);
  // Nothing to escape: the value as it is.
  expect(formatMember('provenant.c', 'secret')).toBe('provenant.c=secret');
});

describe('claims bound to their direction and used once', () => {
  it('never accepts a response claim as request baggage, nor a request claim as a response claim', () => {
    const response = make().responseClaim('127.0.0.1', data)!;
    expect(make().receive('127.0.0.1', response).verdict).toMatchObject({ trusted: false, reason: 'wrong-direction' });
    expect(make().verify('127.0.0.1', response)).toMatchObject({ trusted: true });
    const request = make().outgoingBaggage('127.0.0.1', undefined, data);
    expect(make().verify('127.0.0.1', request)).toMatchObject({ trusted: false, reason: 'wrong-direction' });
  });

  it('rejects a captured claim sent again after its reuse window, within its validity window', () => {
    let now = 1_700_000_000_000;
    const receiver = make({ now: () => now });
    const header = make({ now: () => now }).outgoingBaggage('127.0.0.1', undefined, data);
    expect(receiver.receive('127.0.0.1', header).verdict).toMatchObject({ trusted: true });
    now += 2000;
    expect(receiver.receive('127.0.0.1', header).verdict).toMatchObject({ trusted: false, reason: 'replayed' });
    // A fresh claim from the same sender is new.
    expect(receiver.receive('127.0.0.1', make({ now: () => now }).outgoingBaggage('127.0.0.1', undefined, data)).verdict).toMatchObject({
      trusted: true,
    });
  });

  it('accepts the copies a sender reuses within the second it signed them, and only within the reuse window', () => {
    let now = 1_700_000_000_000;
    const receiver = make({ now: () => now });
    const sender = make({ now: () => now });
    const first = sender.outgoingBaggage('127.0.0.1', undefined, data);
    expect(receiver.receive('127.0.0.1', first).verdict).toMatchObject({ trusted: true });
    now += 999;
    const again = sender.outgoingBaggage('127.0.0.1', undefined, data);
    expect(again).toBe(first);
    expect(receiver.receive('127.0.0.1', again).verdict).toMatchObject({ trusted: true });
    now += 1000;
    expect(receiver.receive('127.0.0.1', again).verdict).toMatchObject({ trusted: true });
    now += 1;
    expect(receiver.receive('127.0.0.1', again).verdict).toMatchObject({ trusted: false, reason: 'replayed' });
  });

  it('reuses the claim for data that alternates with other data within the second', () => {
    const now = 1_700_000_000_000;
    const sender = make({ now: () => now });
    const other = { ...data, sources: ['file://n1/data/users/7.json'] };
    const first = sender.outgoingBaggage('127.0.0.1', undefined, data);
    const second = sender.outgoingBaggage('127.0.0.1', undefined, other);
    expect(second).not.toBe(first);
    expect(sender.outgoingBaggage('127.0.0.1', undefined, data)).toBe(first);
    expect(sender.outgoingBaggage('127.0.0.1', undefined, other)).toBe(second);
  });
});

describe('incoming claims verified once, judged on every arrival', () => {
  const local = { address: '127.0.0.1', port: 7000 };

  it('checks the signature of a repeated header once, and still refuses each arrival that breaks a rule', () => {
    let now = 1_700_000_000_000;
    const receiver = make({ now: () => now });
    const header = make({ now: () => now }).outgoingBaggage('127.0.0.1', 'user=1', { ...data, audience: '127.0.0.1:7000' });
    const verify = vi.spyOn(ClaimSigner.prototype, 'verify');
    try {
      const first = receiver.receive('127.0.0.1', header, local);
      expect(first).toMatchObject({ verdict: { trusted: true }, claims: true, rest: 'user=1' });
      expect(receiver.receive('127.0.0.1', header, local)).toBe(first);
      expect(receiver.receive('10.9.9.9', header, local)).toMatchObject({
        verdict: { trusted: false, reason: 'untrusted-peer' },
        rest: 'user=1',
      });
      expect(receiver.receive('127.0.0.1', header, { ...local, port: 7001 }).verdict).toMatchObject({ reason: 'wrong-audience' });
      expect(receiver.verify('127.0.0.1', header)).toMatchObject({ trusted: false, reason: 'wrong-direction' });
      expect(verify).toHaveBeenCalledTimes(1);
      now += 2000;
      expect(receiver.receive('127.0.0.1', header, local).verdict).toMatchObject({ trusted: false, reason: 'replayed' });
      now += 60_000;
      expect(receiver.receive('127.0.0.1', header, local).verdict).toMatchObject({ trusted: false, reason: 'stale' });
      // A forged copy is another text: verified (and refused) on its own, never taken for the one kept.
      const forged = header!.replace('provenant.c=secret', 'provenant.c=public');
      expect(receiver.receive('127.0.0.1', forged, local).verdict).toMatchObject({ trusted: false, reason: 'bad-signature' });
      expect(receiver.receive('127.0.0.1', forged, local).verdict).toMatchObject({ trusted: false, reason: 'bad-signature' });
      expect(verify).toHaveBeenCalledTimes(3);
    } finally {
      verify.mockRestore();
    }
  });
});

describe('signed claims cached per second', () => {
  const nonce = (header: string | undefined): string | undefined => /provenant\.n=([^,]*)/.exec(header ?? '')?.[1];

  it('signs once within a second for the same labels, sources, audience and direction', () => {
    const now = 1_700_000_000_000;
    const sender = make({ now: () => now });
    const request = { ...data, audience: '127.0.0.1:8080' };
    const header = sender.outgoingBaggage('127.0.0.1', undefined, request);
    expect(sender.outgoingBaggage('127.0.0.1', 'user=1', { ...request, sources: [...request.sources] })).toBe(`user=1,${header!}`);
    const response = sender.responseClaim('127.0.0.1', data);
    expect(sender.responseClaim('127.0.0.1', { ...data, labels: { ...data.labels } })).toBe(response);
    expect(nonce(response)).not.toBe(nonce(header));
  });

  it.each([
    ['a label', { labels: { ...data.labels, confidentiality: 'confidential' } }],
    ['a tag', { labels: { ...data.labels, tags: ['pii', 'phi'] } }],
    ['a source', { sources: ['file://n1/data/b.json'] }],
    ['the audience', { audience: '127.0.0.1:9090' }],
    ['the write span', { writeSpan: `${'a'.repeat(32)}-${'b'.repeat(16)}` }],
  ])('signs a new claim when %s changes', (_what, change) => {
    const now = 1_700_000_000_000;
    const sender = make({ now: () => now });
    const receiver = make({ now: () => now });
    const before = sender.outgoingBaggage('127.0.0.1', undefined, { ...data, audience: '127.0.0.1:8080' });
    const changed = { ...data, audience: '127.0.0.1:8080', ...change };
    const after = sender.outgoingBaggage('127.0.0.1', undefined, changed);
    expect(nonce(after)).not.toBe(nonce(before));
    const verdict = receiver.receive('127.0.0.1', after).verdict;
    expect(verdict).toMatchObject({
      trusted: true,
      claim: { labels: changed.labels, sources: changed.sources },
    });
  });

  it('keys on the id of the data (an interned set) when given one: another id is signed anew, the same id reused', () => {
    const now = 1_700_000_000_000;
    const sender = make({ now: () => now });
    const first = sender.responseClaim('127.0.0.1', { ...data, dataId: 7 });
    expect(sender.responseClaim('127.0.0.1', { ...data, dataId: 7 })).toBe(first);
    expect(nonce(sender.responseClaim('127.0.0.1', { ...data, dataId: 8 }))).not.toBe(nonce(first));
    expect(nonce(sender.responseClaim('127.0.0.1', data))).not.toBe(nonce(first));
  });

  it('signs a new claim in the next second, and never serves a request claim as a response claim', () => {
    let now = 1_700_000_000_999;
    const sender = make({ now: () => now });
    const before = sender.responseClaim('127.0.0.1', data);
    now += 1;
    const after = sender.responseClaim('127.0.0.1', data);
    expect(nonce(after)).not.toBe(nonce(before));
    expect(after).toContain(`provenant.ts=${Math.floor(now / 1000)}`);
    expect(make({ now: () => now }).verify('127.0.0.1', after)).toMatchObject({ trusted: true });
    const request = sender.outgoingBaggage('127.0.0.1', undefined, data);
    expect(make({ now: () => now }).receive('127.0.0.1', request).verdict).toMatchObject({ trusted: true });
    expect(make({ now: () => now }).verify('127.0.0.1', request)).toMatchObject({ trusted: false, reason: 'wrong-direction' });
  });
});

describe('per-service Ed25519 identities', () => {
  const pair = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return {
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  };
  const a = pair();
  const b = pair();
  const trusted = [
    { service: 'a', publicKey: a.pub },
    { service: 'b', publicKey: b.pub },
  ];
  const as = (service: string, key: string) =>
    make({ service, key: undefined, identity: new ServiceIdentity({ service, identityKey: key, trusted }) });
  const receiver = () => make({ service: 'c', key: undefined, identity: new ServiceIdentity({ service: 'c', trusted }) });

  it('signs with the sender key and verifies against the key of the service the claim names, without a shared secret', () => {
    const header = as('a', a.key).outgoingBaggage('127.0.0.1', undefined, data);
    expect(header).toContain('provenant.alg=ed25519');
    expect(receiver().receive('127.0.0.1', header).verdict).toMatchObject({ trusted: true, claim: { service: 'a' } });
  });

  it('does not let one service sign as another', () => {
    // b holds a valid identity key, but claims to be a: a's public key does not verify it.
    const forged = as('a', b.key).outgoingBaggage('127.0.0.1', undefined, data);
    expect(receiver().receive('127.0.0.1', forged).verdict).toMatchObject({ trusted: false, reason: 'bad-signature' });
  });
});

describe('request claims bound to their receiver', () => {
  const to = (audience: string) => make().outgoingBaggage('127.0.0.1', undefined, { ...data, audience });
  const local = { address: '::ffff:127.0.0.1', port: 7000 };

  it('accepts a claim addressed to this connection, refuses one captured on its way to another peer', () => {
    expect(make().receive('127.0.0.1', to('127.0.0.1:7000'), local).verdict).toMatchObject({ trusted: true });
    expect(make().receive('127.0.0.1', to('localhost:7000'), local).verdict).toMatchObject({ trusted: true });
    expect(make().receive('127.0.0.1', to('127.0.0.1:7001'), local).verdict).toMatchObject({ trusted: false, reason: 'wrong-audience' });
    expect(make().receive('127.0.0.1', make().outgoingBaggage('127.0.0.1', undefined, data), local).verdict).toMatchObject({
      trusted: false,
      reason: 'wrong-audience',
    });
  });

  it('accepts the names listed in trust.audience (any port, or the port given)', () => {
    const named = make({ audience: ['api.internal', 'edge.internal:443'] });
    expect(named.receive('127.0.0.1', to('api.internal:8443'), local).verdict).toMatchObject({ trusted: true });
    expect(named.receive('127.0.0.1', to('edge.internal:443'), local).verdict).toMatchObject({ trusted: true });
    expect(named.receive('127.0.0.1', to('edge.internal:80'), local).verdict).toMatchObject({ trusted: false, reason: 'wrong-audience' });
  });
});
