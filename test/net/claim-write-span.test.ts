// The write span a signed claim names (`provenant.ws`) is a span of the sender's own. A response
// whose flow repeats one already recorded (spanned once per window) has no span of its own; its
// context then falls back to the trace parent it joined, the caller's span, which is what the
// traceparent of a request onwards should carry but not a claim: the caller would link to its own
// span, and every response would make a distinct claim, signed and verified once per request.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { startService, writeConfig } from './helpers';

let port: number;

beforeAll(async () => {
  const dir = tempDir();
  // One window for the whole test: every response after the first repeats its flow.
  const config = writeConfig(dir, 'b', 'service: b\ntrust: { peers: ["127.0.0.1"] }\njournal: { repeatWindowMs: 600000 }\n');
  ({ port } = await startService(dir, config));
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

/** The signed claim of b's response to a request sent with `traceparent`. */
function claimFor(traceparent: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${port}/requests`, { headers: { traceparent } }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.headers['provenant-baggage'] ?? '')));
      })
      .on('error', reject);
  });
}

describe('the write span of a response claim', () => {
  it("never names the caller's own span, however often the response flow repeats", async () => {
    const claims: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const trace = i.toString(16).padStart(32, 'a');
      const span = i.toString(16).padStart(16, 'b');
      const claim = await claimFor(`00-${trace}-${span}-01`);
      claims.push(claim);
      // Signed (the test's address is a trusted peer) and never naming the span the caller sent.
      expect(claim).toMatch(/provenant\.sig=/);
      expect(claim).not.toContain(span);
    }
    // The first response spanned its flow: its claim names that span, in the caller's trace.
    expect(claims[0]).toMatch(new RegExp(`provenant\\.ws=${'1'.padStart(32, 'a')}-[0-9a-f]{16}`));
    // The repeats spanned nothing: no write span at all.
    for (const claim of claims.slice(1)) expect(claim).not.toMatch(/provenant\.ws=/);
  });
});
