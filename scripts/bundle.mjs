// Bundles the preload and the API (src/bundle.ts) into dist/provenant.js, after tsc, then points
// dist/index.js and dist/register.js at it: resolving, reading and wrapping ~230 modules one by one
// was most of what the preload added to a process's (and each worker thread's) start-up. Both
// entries load the same file, so a process has one copy of provenant's module state. Packages
// provenant requires only on first use stay outside the bundle, so they stay unloaded until then;
// provenant's background threads (the OTLP export of spans and logs, OpenLineage, witnesses) are each
// bundled in place the same way, with their exporters: a thread with the OTLP exporter loaded
// module by module cost about as much CPU again as the whole preload. The CLI stays unbundled.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
await build({
  // From the sources: ES modules bundled as such keep their export names visible to Node's ESM
  // loader (`import { run } from 'provenant'`), which tsc's CommonJS output would hide here.
  entryPoints: [join(root, 'src', 'bundle.ts')],
  tsconfig: join(root, 'tsconfig.json'),
  outfile: join(dist, 'provenant.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  // Required on first use (support/otel-sdk.ts, config/yaml-lib.ts).
  external: ['@opentelemetry/sdk-trace', '@opentelemetry/resources', '@opentelemetry/core', 'yaml'],
  sourcemap: 'linked',
  // Whitespace and comments only (names stay, for stack traces and the caller checks): a third
  // less source for V8 to hold and scan in every thread; the linked map restores the lines.
  minifyWhitespace: true,
  logLevel: 'warning',
});
// Each thread has its own module state anyway; its exporter packages stay lazy inside the bundle.
for (const worker of ['export/export-worker', 'openlineage/export-worker', 'journal/witness-worker']) {
  await build({
    entryPoints: [join(root, 'src', `${worker}.ts`)],
    outfile: join(dist, `${worker}.js`),
    tsconfig: join(root, 'tsconfig.json'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // The gRPC exporters find files relative to their own ES module (import.meta.url): loaded from
    // node_modules as they are, on first use.
    external: [
      '@opentelemetry/exporter-trace-otlp-grpc',
      '@opentelemetry/exporter-logs-otlp-grpc',
      '@opentelemetry/otlp-grpc-exporter-base',
      '@grpc/grpc-js',
    ],
    sourcemap: 'linked',
    minifyWhitespace: true,
    // `import()` becomes `require()`: the exporters' transports load `http`/`https` with a dynamic
    // import, which started Node's ES module loader in the thread (undici and http2 with it) for
    // two built-ins `require` returns at once.
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  });
}
const entry = (comment, body) => `'use strict';\n// ${comment}\n${body}\n`;
writeFileSync(
  join(dist, 'index.js'),
  entry('The API, from the one bundled copy of provenant (scripts/bundle.mjs).', "module.exports = require('./provenant.js');"),
);
// The preload loads that same copy, compiled with the code cache its creating thread hands a
// worker (src/support/bundle-code.ts): a small file of its own, outside the bundle it loads.
await build({
  entryPoints: [join(root, 'src', 'preload-entry.ts')],
  tsconfig: join(root, 'tsconfig.json'),
  outfile: join(dist, 'register.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  logLevel: 'warning',
});
// Registered ahead of the app's first module.register() hooks when provenant was not started as a
// --require preload, which Node alone runs in its hooks thread (src/instrumentation/worker/hooks-thread.ts):
// its top level starts provenant there before the app's hooks module is imported. It defines no hooks.
writeFileSync(
  join(dist, 'hooks-start.mjs'),
  [
    "// Starts provenant in Node's module-hooks thread (src/instrumentation/worker/hooks-thread.ts); no hooks.",
    "import { createRequire } from 'node:module';",
    '',
    "createRequire(import.meta.url)('./register.js');",
    '',
  ].join('\n'),
);
// Besides old outputs, tsc's copy of the preload's entry: dist/register.js is its bundled form.
const stale = [
  'index.js.map',
  'register.js.map',
  'bundle.js',
  'bundle.js.map',
  'bundle.d.ts',
  'preload-entry.js',
  'preload-entry.js.map',
  'preload-entry.d.ts',
];
for (const file of stale) rmSync(join(dist, file), { force: true });
