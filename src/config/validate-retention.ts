/**
 * The `journal.retention` section: how much journal a state dir keeps, checked like the rest with
 * file:line:col. Absent, everything is kept: deleting evidence is the operator's decision, never a default.
 */
import type { RetentionConfig } from './types.js';
import type { Located, YamlReader } from './yaml-reader.js';

export function readRetention(r: YamlReader, value: Located, segmentMaxBytes: number): RetentionConfig {
  const m = r.map(value, ['maxBytes', 'maxAgeSeconds']);
  const bytes = m.get('maxBytes');
  const age = m.get('maxAgeSeconds');
  const retention: RetentionConfig = {
    maxBytes: bytes ? r.integer(bytes, 1) : null,
    maxAgeSeconds: age ? r.integer(age, 1) : null,
  };
  // Each live process keeps its current segment (up to segmentMaxBytes): a smaller bound could
  // never be met, and would delete every closed segment the moment it closed.
  if (bytes && retention.maxBytes !== null && retention.maxBytes < 2 * segmentMaxBytes)
    r.fail(
      bytes.node,
      `${bytes.where} is ${retention.maxBytes} but must be at least twice journal.segmentMaxBytes (${2 * segmentMaxBytes}): the segments being written are never deleted`,
    );
  return retention;
}
