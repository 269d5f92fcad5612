// monitors:, attest: and trust.identities: every problem is a ConfigError at its file, line and
// column, including problems inside a rule's text; a bad rule stops the preload with exit 78.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { compileMonitors } from '../../src/monitor/compile.js';
import { runNode, repoRoot } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { CONFIG_FILE, configFrom } from '../policy/helpers.js';

afterAll(cleanupTempDirs);

function problemOf(yaml: string): string {
  try {
    compileMonitors(configFrom(yaml));
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('no error');
}

const at = (place: string, problem: string): string => `provenant: invalid config ${CONFIG_FILE}:${place}: ${problem}`;

describe('monitor and attest entries', () => {
  it('places a problem inside a quoted one-line rule at its own column', () => {
    const yaml = 'monitors:\n  - id: m\n    on: { method: POST, route: "/x/:M" }\n    rule: "permit go(M) :- booked(B)."\n';
    expect(problemOf(yaml)).toBe(
      at('4:19', 'monitors "m": unsafe rule: M in the head go(M) does not occur in a positive fact of its body'),
    );
  });

  it('places a problem inside a block rule on its own line', () => {
    const yaml = [
      'monitors:',
      '  - id: m',
      '    on: { route: "/x/:M" }',
      '    rule: |',
      '      permit go(M) :- a(M), not b(M).',
      '      b(M) :- a(M), not c(M).',
      '      c(M) :- a(M), not go(M).',
      '',
    ].join('\n');
    expect(problemOf(yaml)).toBe(
      at(
        '5:33',
        'monitors "m": not stratifiable: go depends on "not b" while b depends on go (recursion through negation has no single meaning)',
      ),
    );
  });

  it('requires the action to be bound by the route and one effect', () => {
    const unbound = 'monitors:\n  - id: m\n    on: { route: "/x/:Y" }\n    rule: "permit go(M) :- a(M)."\n';
    expect(problemOf(unbound)).toBe(
      at('4:19', 'monitors "m": each argument of the action go(M) must be a parameter of the route /x/:Y (:Y)'),
    );
    const none = 'monitors:\n  - id: m\n    on: { route: "/x/:M" }\n    rule: "go(M) :- a(M)."\n';
    expect(problemOf(none)).toMatch(/one clause must start with "permit" or "deny"/);
  });

  it('checks shapes where they are written: mode, route, duplicate ids, attested arguments', () => {
    expect(() =>
      configFrom('monitors:\n  - id: m\n    on: { route: "/x" }\n    mode: trust-then-verfy\n    rule: "permit a() :- b()."\n'),
    ).toThrow(
      at(
        '4:11',
        'monitors[0].mode must be one of verify-then-trust, trust-then-verify, got "trust-then-verfy" (did you mean "trust-then-verify"?)',
      ),
    );
    expect(() => configFrom('monitors:\n  - id: m\n    on: { route: "x/:M" }\n    rule: "permit a() :- b()."\n')).toThrow(
      at('3:18', 'monitors[0].on.route "x/:M" must start with "/"'),
    );
    expect(problemOf('attest:\n  - on: { route: "/b/:B" }\n    fact: confirmed(B, user)\n')).toBe(
      at('3:24', 'attest: "user" is neither a parameter of /b/:B, a body.<field> nor a "quoted" constant'),
    );
    expect(problemOf('attest:\n  - on: { route: "/b/:B" }\n    when: request\n    fact: confirmed(B, body.user)\n')).toBe(
      at('4:24', 'attest: body.user: the body is not read yet when: request'),
    );
  });
});

describe('trust.identities', () => {
  it('reads a PEM public key or a C2SP verifier key, and rejects anything else at its place', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
    const vkey = `broker+abcd1234+${Buffer.concat([Buffer.from([1]), raw]).toString('base64')}`;
    const config = configFrom(`trust:\n  identities:\n    - { service: broker, vkey: "${vkey}", evidence: "http://127.0.0.1:9/x" }\n`);
    expect(config.trust.identities).toEqual([
      { service: 'broker', publicKey: publicKey.export({ type: 'spki', format: 'pem' }), evidence: 'http://127.0.0.1:9' },
    ]);
    expect(() => configFrom('trust:\n  identities:\n    - { service: a, vkey: "a+b+AAAA" }\n')).toThrow(
      at('3:27', 'trust.identities[0].vkey is not an Ed25519 verifier key (name+hash+base64 of 0x01 and 32 key bytes)'),
    );
    const h2c = configFrom(
      `trust:\n  identities:\n    - { service: b, vkey: "${vkey}", evidence: "http://127.0.0.1:9", evidenceProtocol: h2c }\n`,
    );
    expect(h2c.trust.identities[0]).toMatchObject({ evidence: 'http://127.0.0.1:9', evidenceProtocol: 'h2c' });
    // Over TLS the protocol is negotiated: h2c there is a mistake, named at the value.
    const tlsLine = `    - { service: b, vkey: "${vkey}", evidence: "https://127.0.0.1:9", evidenceProtocol: h2c }`;
    expect(() => configFrom(`trust:\n  identities:\n${tlsLine}\n`)).toThrow(
      at(`3:${tlsLine.indexOf('h2c }') + 1}`, 'trust.identities[0].evidenceProtocol: h2c needs an http:// evidence URL'),
    );
    expect(() => configFrom('trust:\n  identities:\n    - { service: a }\n')).toThrow(
      at('3:7', 'trust.identities[0] needs exactly one of publicKey (PEM text or file) and vkey'),
    );
  });
});

it('stops the preload (exit 78) and fails `policy validate` with the rule problem at file:line:col', async () => {
  const dir = tempDir();
  const file = join(dir, 'provenant.yaml');
  writeFileSync(file, 'monitors:\n  - id: m\n    on: { route: "/x/:M" }\n    rule: "permit go(M) :- a(M), not go(M)."\n');
  const expected = `provenant: invalid config ${file}:4:38: monitors "m": not stratifiable: go depends on its own negation (recursion through negation has no single meaning)`;
  const started = await runNode({ args: ['-e', 'console.log("app ran")'], preload: 'require', env: { PROVENANT_CONFIG: file } });
  expect({ code: started.code, stdout: started.stdout, stderr: started.stderr.trim() }).toEqual({ code: 78, stdout: '', stderr: expected });
  const validated = await runNode({ args: [join(repoRoot, 'dist', 'cli', 'main.js'), 'policy', 'validate', file] });
  expect({ code: validated.code, stderr: validated.stderr.trim() }).toEqual({ code: 78, stderr: expected });
});
