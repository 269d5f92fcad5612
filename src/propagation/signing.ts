/**
 * HMAC-SHA256 over provenance claims with the shared PROVENANT_KEY. The key id lets a receiver
 * tell "signed with a key I do not have" from "forged", without revealing the key.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export class ClaimSigner {
  /** First 16 hex digits of SHA-256 over a domain-separated key: short, stable, not the key. */
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(key: string) {
    this.key = Buffer.from(key, 'utf8');
    this.keyId = createHash('sha256').update('provenant-key-id\n').update(this.key).digest('hex').slice(0, 16);
  }

  sign(canonical: string): string {
    return createHmac('sha256', this.key).update(canonical, 'utf8').digest('base64url');
  }

  verify(canonical: string, signature: string): boolean {
    const expected = Buffer.from(this.sign(canonical), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
