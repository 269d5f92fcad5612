// A workspace for fs tests: a config labelling `secret/**` and `out/secret/**` secret and
// `out/public/**` public, a state dir, a real OTLP receiver, and a reader for the node-local
// store (opened read-only with node:sqlite, as another process on the node would, its interned
// sets read with the store's own SetTable).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { repoRoot, runNode, type Preload, type RunResult } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';
import { SetTable } from '../../src/provenance/stored-sets.js';

export const NODE_ID = 'testnode';
export const SECRET_TEXT = 'the launch codes are 0000\n';
export const appsDir = path.join(__dirname, 'apps');
export const distIndex = path.join(repoRoot, 'dist', 'index.js');

export interface StoredRow {
  sources: string[];
  labels: { confidentiality: string; integrity: string; tags: string[]; locations: string[] };
  writeSpan: string | null;
}

export interface FsWorkspace {
  root: string;
  stateDir: string;
  receiver: OtlpReceiver;
  uri(relative: string): string;
  abs(relative: string): string;
  /** Run an app from test/fs/apps with the preload, the workspace config and span export. */
  run(app: string, options?: { preload?: Preload; args?: string[]; env?: Record<string, string> }): Promise<RunResult>;
  /** The stored provenance of a workspace file, or undefined when none is recorded. */
  stored(relative: string): StoredRow | undefined;
  close(): Promise<void>;
}

export async function createWorkspace(): Promise<FsWorkspace> {
  const root = tempDir('provenant-fs-');
  const stateDir = path.join(root, '.state');
  for (const dir of ['secret', 'out/secret', 'out/public']) mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, 'secret', 'a.txt'), SECRET_TEXT);
  const config = path.join(root, 'provenant.yaml');
  writeFileSync(
    config,
    [
      `node: ${NODE_ID}`,
      'mode: enforce',
      // Every shape runs in its own context; these tests check each gets its own spans.
      'journal: { repeatWindowMs: 0 }',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      '  - match: { path: "out/secret/**" }',
      '    labels: { confidentiality: secret }',
      '  - match: { path: "out/public/**" }',
      '    labels: { confidentiality: public }',
      '',
    ].join('\n'),
  );
  const receiver = await startOtlpReceiver();
  const abs = (relative: string): string => path.join(root, relative);
  return {
    root,
    stateDir,
    receiver,
    abs,
    uri: (relative) => `file://${NODE_ID}${abs(relative)}`,
    run: (app, options = {}) =>
      runNode({
        args: [path.join(appsDir, app), root, ...(options.args ?? [])],
        cwd: root,
        preload: options.preload ?? 'require',
        env: {
          PROVENANT_CONFIG: config,
          PROVENANT_STATE_DIR: stateDir,
          PROVENANT_DIST_INDEX: distIndex,
          OTEL_SERVICE_NAME: 'fs-test',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
          ...options.env,
        },
      }),
    stored: (relative) => readStored(stateDir, abs(relative)),
    close: () => receiver.close(),
  };
}

/**
 * The stored provenance of a file as another process reads it: the record under its inode joined
 * with what was saved under its path before the file existed.
 */
export function readStored(stateDir: string, file: string): StoredRow | undefined {
  const db = new DatabaseSync(path.join(stateDir, 'provenance.db'), { readOnly: true });
  try {
    const select = db.prepare('SELECT set_id, write_span FROM file_records WHERE path = ?');
    const sets = new SetTable(db);
    const stat = statSync(file, { bigint: true, throwIfNoEntry: false });
    const keys = stat ? [`inode:${stat.dev}:${stat.ino}`, file] : [file];
    const rows = keys
      .map((key) => select.get(key) as { set_id: number; write_span: string | null } | undefined)
      .filter((row) => row !== undefined)
      .map((row) => ({ ...sets.load(row.set_id, () => undefined), writeSpan: row.write_span }));
    const [first, second] = rows;
    if (first === undefined || second === undefined) return first;
    return {
      sources: [...new Set([...first.sources, ...second.sources])].sort(),
      labels: { ...first.labels, tags: [...new Set([...first.labels.tags, ...second.labels.tags])].sort() },
      writeSpan: second.writeSpan ?? first.writeSpan,
    };
  } finally {
    db.close();
  }
}

export function attr(span: ReceivedSpan, key: string): unknown {
  return span.attributes[key];
}

export function spansFor(spans: readonly ReceivedSpan[], name: string, file: string): ReceivedSpan[] {
  return spans.filter((span) => span.name === name && span.attributes['file.path'] === file);
}
