// The workspace of the network mediation tests: secret.txt (labelled secret) and public.txt in a
// temp dir, a config in which 127.0.0.2 may hold secrets (127.0.0.3 stays unlabelled, public), and
// the environment that runs an app under it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';

export interface NetWorkspace {
  readonly dir: string;
  readonly env: Record<string, string>;
}

export function netWorkspace(secret: string, publicText: string, extraResources: string[] = []): NetWorkspace {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'secret.txt'), secret);
  writeFileSync(path.join(dir, 'public.txt'), publicText);
  writeFileSync(
    path.join(dir, 'provenant.yaml'),
    [
      'service: app',
      'node: n1',
      'resources:',
      '  - match: { path: "secret.txt" }',
      '    labels: { confidentiality: secret }',
      '  - match: { host: "127.0.0.2" }',
      '    labels: { confidentiality: secret }',
      ...extraResources,
      '',
    ].join('\n'),
  );
  return { dir, env: { PROVENANT_CONFIG: path.join(dir, 'provenant.yaml'), PROVENANT_STATE_DIR: path.join(dir, 'state') } };
}
