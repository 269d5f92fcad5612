// The real test suites the transparency run installs from the npm registry: pinned packages whose
// tarball ships their tests (node:test files, run by their own runner's engine, `node --test`).
// `files` are the test files run; `testDependencies` the pinned test-time packages they load.
export const SUITES = [
  {
    name: 'sonic-boom',
    version: '5.0.2',
    testDependencies: { proxyquire: '2.1.3', '@sinonjs/fake-timers': '15.5.0' },
    // All but write.test.js (88 s plain: enormous buffers) and sync.test.js (9 s), to fit the CI budget.
    files: ['test/!(write|sync).test.js'],
  },
  {
    name: 'thread-stream',
    version: '4.2.1',
    testDependencies: { desm: '1.3.1', 'sonic-boom': '5.0.2' },
    // Worker-thread tests that run in seconds; left out: the TypeScript ones (they need a transpile
    // step and fail plain without it), the bundler, watch-mode and benchmark ones, and the slow
    // string-limit, flush and thread-management ones (tens of seconds).
    files: ['test/{base,context,end,event,indexes,post-message,ready,worker-name}.test.js', 'test/multibyte-chars.test.mjs'],
    nodeArgs: ['--expose-gc'],
  },
  {
    name: 'pino',
    version: '10.4.0',
    testDependencies: {
      '@matteo.collina/tspl': '0.2.0',
      'flush-write-stream': '2.0.0',
      'strip-ansi': '6.0.1',
      split2: '4.2.0',
      proxyquire: '2.1.3',
      execa: '5.1.1',
    },
    // The logger's core (levels, serializers, redaction, child loggers, destinations, exit and
    // HTTP logging); left out: browser, transport (worker threads; thread-stream covers those),
    // ESM, types and jest ones.
    files: [
      'test/{basic,levels,serializers,redact,escaping,error,error-key,formatters,mixin,mixin-merge-strategy,hooks,custom-levels}.test.js',
      'test/{timestamp,timestamp-nano,metadata,multistream,is-level-enabled,crlf,complex-objects,syncfalse,exit,http,broken-pipe}.test.js',
    ],
  },
];
