/**
 * Per-service identities: this service signs what it attests with its own Ed25519 key
 * (PROVENANT_IDENTITY_KEY, PEM text or a path), so no other service can forge its statements and
 * it cannot deny them later; peers' public keys come from the config's trust.identities. Without
 * an identity key, the shared PROVENANT_KEY signs with HMAC-SHA256 as a fallback: any holder of
 * that key can then sign as any service, so it proves membership, not authorship.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TrustedIdentity } from '../config/types.js';
import type { FactSignature, FactSigner, FactVerifier } from '../monitor/facts.js';
import { internally } from '../support/reentrancy.js';
import { ClaimSigner } from './signing.js';

/** First 16 hex digits of SHA-256 over the SPKI DER: names a key without revealing anything. */
function identityKeyId(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** An Ed25519 private key from PEM text or a path to it; a clear error for anything else. */
function loadIdentityKey(value: string): KeyObject {
  const pem = value.includes('-----BEGIN') ? value : internally(() => readFileSync(value, 'utf8'));
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`PROVENANT_IDENTITY_KEY must be an Ed25519 key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  return key;
}

export interface IdentityOptions {
  /** This service's name: the principal of what it attests. */
  service: string;
  /** PROVENANT_IDENTITY_KEY. */
  identityKey?: string | undefined;
  /** PROVENANT_KEY, the HMAC fallback. */
  sharedKey?: string | undefined;
  trusted: readonly TrustedIdentity[];
}

export class ServiceIdentity implements FactSigner, FactVerifier {
  private readonly privateKey: KeyObject | undefined;
  private readonly keyId: string | undefined;
  private readonly peers = new Map<string, KeyObject>();
  private readonly hmac: ClaimSigner | undefined;

  constructor(options: IdentityOptions) {
    this.privateKey = options.identityKey ? loadIdentityKey(options.identityKey) : undefined;
    if (this.privateKey) {
      const own = createPublicKey(this.privateKey);
      this.keyId = identityKeyId(own);
      this.peers.set(options.service, own);
    }
    for (const peer of options.trusted) if (!this.peers.has(peer.service)) this.peers.set(peer.service, createPublicKey(peer.publicKey));
    this.hmac = options.sharedKey ? new ClaimSigner(options.sharedKey) : undefined;
  }

  /** Id of this service's Ed25519 key; undefined without PROVENANT_IDENTITY_KEY. */
  get identityKeyId(): string | undefined {
    return this.keyId;
  }

  /** Ed25519 when this service has an identity key, else HMAC with the shared key, else unsigned. */
  sign(payload: string): FactSignature | undefined {
    if (this.privateKey && this.keyId)
      return { alg: 'ed25519', keyId: this.keyId, value: sign(null, Buffer.from(payload), this.privateKey).toString('base64url') };
    if (this.hmac) return { alg: 'hmac-sha256', keyId: this.hmac.keyId, value: this.hmac.sign(payload) };
    return undefined;
  }

  /** Ed25519 against the principal's trusted key; HMAC only with the same shared key. */
  verify(principal: string, payload: string, signature: FactSignature): boolean {
    if (signature.alg === 'hmac-sha256')
      return this.hmac !== undefined && signature.keyId === this.hmac.keyId && this.hmac.verify(payload, signature.value);
    const key = this.peers.get(principal);
    if (key === undefined) return false;
    try {
      return verify(null, Buffer.from(payload), key, Buffer.from(signature.value, 'base64url'));
    } catch {
      return false;
    }
  }
}
