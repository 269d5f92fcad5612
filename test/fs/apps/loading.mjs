// The ESM twin of loading.cjs, run with --import: static and dynamic imports, plus require().
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import './mods/three.mjs';

const root = process.argv[2];
const require = createRequire(import.meta.url);
require('./mods/one.cjs');
require('./mods/data.json');
await import('./mods/four.mjs');
writeFileSync(path.join(root, 'out/secret/loading.txt'), 'derived');
console.log('done');
