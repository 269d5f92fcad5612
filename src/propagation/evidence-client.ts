/**
 * Fetches facts from an attesting service's evidence endpoint (`GET /.well-known/provenant/facts`),
 * for monitors with fetchEvidence. The answer is verified fact by fact like any evidence; this
 * client only moves bytes, bounded in size and time.
 */
import http from 'node:http';
import https from 'node:https';
import { EVIDENCE_PATH, MAX_EVIDENCE_BYTES } from '../monitor/evidence.js';
import { internally } from '../support/reentrancy.js';

const TIMEOUT_MS = 2000;

export function fetchEvidence(origin: string, principal: string, name: string): Promise<string | undefined> {
  const url = new URL(`${EVIDENCE_PATH}?principal=${encodeURIComponent(principal)}&name=${encodeURIComponent(name)}`, origin);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // provenant's own request: not a flow of the app's.
    const req = internally(() => client.get(url, { timeout: TIMEOUT_MS }));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > MAX_EVIDENCE_BYTES * 2) req.destroy(new Error('evidence answer too large'));
      });
      res.on('end', () => resolve(res.statusCode === 200 ? text.trim() : undefined));
      res.on('error', reject);
    });
  });
}
