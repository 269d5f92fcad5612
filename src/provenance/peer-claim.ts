/**
 * What one service states to another about the data it sends, and what a receiver concluded
 * about such a statement: plain data shared by the network instrumentation (which acts on it)
 * and src/propagation/ (which encodes, signs and verifies it), so neither imports the other.
 */
import type { PublicLabels } from './labels.js';

/** What a sender states about the data it sends. */
export interface ProvenanceClaim {
  /** Sending service (`service://<name>` at the receiver). */
  service: string;
  /** Location the sender runs in (config `location`). */
  location?: string;
  labels: PublicLabels;
  /** Source URIs; empty when only a digest was received. */
  sources: string[];
  /** `sha256:<hex>` of the sources when they did not fit. */
  sourcesDigest?: string;
  sourceCount?: number;
  /** `<trace-id>-<span-id>` of the sender's write span. */
  writeSpan?: string;
  /** Unix seconds. */
  issuedAt: number;
  /** Request claims: the receiver as the sender dialled it (`host:port`). */
  audience?: string;
}

export type UntrustedReason =
  | 'unsigned'
  | 'malformed'
  | 'oversized'
  | 'stale'
  | 'unknown-key'
  | 'bad-signature'
  | 'untrusted-peer'
  | 'no-key'
  /** A claim seen before within its validity window (a captured header sent again). */
  | 'replayed'
  /** A response's claim offered as a request's (or the reverse). */
  | 'wrong-direction'
  /** A request claim addressed to another receiver. */
  | 'wrong-audience';

/** What an unverified claim said: labels when readable, `unreadable` when not even those parse. */
export type ClaimedLabels = Partial<PublicLabels> | 'unreadable';

export type Verdict =
  | { readonly trusted: true; readonly claim: ProvenanceClaim }
  | { readonly trusted: false; readonly reason: UntrustedReason; readonly claimed?: ClaimedLabels };

/** What a receiver learns from an incoming header: the verdict, and the header without the claim's members. */
export interface Received {
  verdict: Verdict;
  /** False when the header held no claim (it can stay as it is). */
  claims: boolean;
  rest: string | undefined;
}

/** The data an outgoing request or response carries, as the sender's context knows it. */
export interface OutgoingData {
  labels: PublicLabels;
  sources: readonly string[];
  /**
   * Names these labels and sources exactly (an interned provenance set's id, never reused for other
   * contents), so the sender's cache of signed claims keys on it instead of the lists.
   */
  dataId?: number;
  /** `<trace-id>-<span-id>` of the write span of this flow. */
  writeSpan?: string;
  /** The receiver as dialled (`host:port`): a request claim is bound to it. */
  audience?: string;
}

/** The local end of a connection a request arrived on: whom a request claim must be addressed to. */
export interface LocalEndpoint {
  readonly address: string;
  readonly port: number;
}

/** An HTTP header as Node and undici hand it over: absent, one value or several. */
export type HeaderValue = string | readonly string[] | undefined;
