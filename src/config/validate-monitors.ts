/**
 * The `monitors:`, `attest:` and `trust.identities` sections. Shapes, names and keys are checked
 * here with their line and column; the rule text itself is parsed and checked (syntax, safety,
 * stratification) by src/monitor, which reports problems inside it at their own line and column.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { yamlLib } from './yaml-lib.js';
import { internally } from '../support/reentrancy.js';
import { MONITOR_MODES, type AttestSpec, type MonitorSpec, type RouteSpec, type TrustedIdentity } from './types.js';
import type { Located, YamlReader } from './yaml-reader.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', '*'] as const;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class MonitorValidator {
  constructor(
    private readonly r: YamlReader,
    private readonly baseDir: string,
  ) {}

  readMonitors(value: Located): MonitorSpec[] {
    const seen = new Map<string, number>();
    return this.r.list(value).map((entry) => {
      const m = this.r.map(entry, ['id', 'on', 'mode', 'rule', 'fetchEvidence']);
      const id = this.required(m, entry, 'id');
      const line = this.r.lineOf(entry.node);
      const name = this.r.string(id);
      const first = seen.get(name);
      if (first !== undefined) this.r.fail(id.node, `duplicate monitor id "${name}" in ${entry.where} (first used at line ${first})`);
      seen.set(name, line);
      const rule = this.required(m, entry, 'rule');
      const mode = m.get('mode');
      const fetch = m.get('fetchEvidence');
      return {
        id: name,
        on: this.route(this.required(m, entry, 'on')),
        mode: mode ? this.r.oneOf(mode, MONITOR_MODES) : 'verify-then-trust',
        rule: this.r.string(rule),
        ruleAt: this.r.textPosition(rule),
        fetchEvidence: fetch ? this.r.boolean(fetch) : false,
        line,
      };
    });
  }

  readAttest(value: Located): AttestSpec[] {
    return this.r.list(value).map((entry) => {
      const m = this.r.map(entry, ['on', 'when', 'status', 'fact']);
      const fact = this.required(m, entry, 'fact');
      const when = m.get('when');
      const status = m.get('status');
      const spec: AttestSpec = {
        on: this.route(this.required(m, entry, 'on')),
        when: when ? this.r.oneOf(when, ['request', 'response'] as const) : 'response',
        status: status ? this.status(status) : '2xx',
        fact: this.r.string(fact),
        factAt: this.r.textPosition(fact),
        line: this.r.lineOf(entry.node),
      };
      if (status && spec.when === 'request')
        this.r.fail(status.node, `${status.where} applies only when: response (a request has no status yet)`);
      return spec;
    });
  }

  readIdentities(value: Located): TrustedIdentity[] {
    const seen = new Set<string>();
    return this.r.list(value).map((entry) => {
      const m = this.r.map(entry, ['service', 'publicKey', 'vkey', 'evidence', 'evidenceProtocol']);
      const service = this.r.string(this.required(m, entry, 'service'));
      if (seen.has(service)) this.r.fail(entry.node, `${entry.where}: service "${service}" is listed twice`);
      seen.add(service);
      const publicKey = m.get('publicKey');
      const vkey = m.get('vkey');
      if ((publicKey === undefined) === (vkey === undefined))
        this.r.fail(entry.node, `${entry.where} needs exactly one of publicKey (PEM text or file) and vkey`);
      const key = publicKey ? this.pemKey(publicKey) : this.vkey(vkey as Located);
      const identity: TrustedIdentity = { service, publicKey: key.export({ type: 'spki', format: 'pem' }).toString() };
      const evidence = m.get('evidence');
      if (evidence) identity.evidence = this.origin(evidence);
      const protocol = m.get('evidenceProtocol');
      if (protocol && this.r.oneOf(protocol, ['http/1.1', 'h2c']) === 'h2c') {
        // Over TLS the endpoint's protocol is negotiated (ALPN); only cleartext needs to be told.
        if (!identity.evidence?.startsWith('http:'))
          this.r.fail(protocol.node, `${protocol.where}: h2c needs an http:// evidence URL (https:// negotiates HTTP/2 by itself)`);
        identity.evidenceProtocol = 'h2c';
      }
      return identity;
    });
  }

  private required(m: Map<string, Located>, entry: Located, key: string): Located {
    const value = m.get(key);
    if (!value) this.r.fail(entry.node, `${entry.where} needs "${key}"`);
    return value;
  }

  private route(value: Located): RouteSpec {
    const m = this.r.map(value, ['method', 'route']);
    const method = m.get('method');
    const route = m.get('route');
    if (!route) this.r.fail(value.node, `${value.where} needs "route" (e.g. /missions/:M/launch)`);
    const path = this.r.string(route);
    if (!path.startsWith('/')) this.r.fail(route.node, `${route.where} "${path}" must start with "/"`);
    const names = path.split('/').filter((part) => part.startsWith(':'));
    for (const name of names) {
      if (!/^:[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        this.r.fail(route.node, `${route.where}: "${name}" is not a parameter name (":" then letters, digits, "_")`);
    }
    return { method: method ? this.r.oneOf(method, METHODS) : '*', route: path };
  }

  private status(value: Located): string {
    const text = yamlLib().isScalar(value.node) && typeof value.node.value === 'number' ? String(value.node.value) : this.r.string(value);
    if (!/^[1-5](xx|\d\d)$/.test(text))
      this.r.fail(value.node, `${value.where} must be a status class such as 2xx or a status such as 201, got "${text}"`);
    return text;
  }

  private pemKey(value: Located): KeyObject {
    const text = this.r.string(value);
    let pem = text;
    if (!text.includes('-----BEGIN')) {
      try {
        pem = internally(() => readFileSync(resolve(this.baseDir, text), 'utf8'));
      } catch (error) {
        this.r.fail(
          value.node,
          `${value.where}: cannot read the key file "${text}" (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        );
      }
    }
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      this.r.fail(value.node, `${value.where} is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ed25519')
      this.r.fail(value.node, `${value.where} is a ${key.asymmetricKeyType ?? 'unknown'} key; identities are Ed25519`);
    return key;
  }

  /** A C2SP signed-note verifier key: `<name>+<hash>+<base64(0x01 ‖ 32-byte Ed25519 key)>`. */
  private vkey(value: Located): KeyObject {
    const text = this.r.string(value);
    // The key's base64 may itself hold "+": only the first two separate fields.
    const [name, hash, ...key] = text.split('+');
    const raw = name && hash && key.length > 0 ? Buffer.from(key.join('+'), 'base64') : Buffer.alloc(0);
    if (raw.length !== 33 || raw[0] !== 0x01)
      this.r.fail(value.node, `${value.where} is not an Ed25519 verifier key (name+hash+base64 of 0x01 and 32 key bytes)`);
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw.subarray(1)]), format: 'der', type: 'spki' });
  }

  private origin(value: Located): string {
    return this.r.httpUrl(value).origin;
  }
}
