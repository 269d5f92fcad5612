// Bundles the browser explorer (src/ui/app/) with its graph libraries into dist/ui/app.js and
// dist/ui/app.css, so `provenant ui` serves everything itself: no CDN, works offline.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'src', 'ui', 'app', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2022',
  legalComments: 'eof',
  tsconfig: join(root, 'src', 'ui', 'app', 'tsconfig.json'),
  logLevel: 'warning',
});
copyFileSync(join(root, 'src', 'ui', 'app', 'app.css'), join(out, 'app.css'));
