// A bench server's allocations over the measured window: `node --heap-prof` keeps only objects still
// alive at exit, so this preload samples through the inspector with collected objects included,
// starts at the first `cpu` line the bench sends (after warm-up) and writes a .heapprofile on exit,
// named by the bench server's arguments (variant, workload).
// Sum it with bench/profile-summary.mjs PROFILE --requests N.
//
//   node bench/http.mjs --only chain --server-args "-r ./bench/alloc-profile.cjs" (ALLOC_PROFILE_DIR, default ./alloc-prof)
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(process.env.ALLOC_PROFILE_DIR ?? 'alloc-prof');
const session = new inspector.Session();
session.connect();
let started = false;
process.stdin.on('data', (chunk) => {
  if (started || !String(chunk).includes('cpu')) return;
  started = true;
  // One sample per 4 KiB on average: enough sites per request over a few thousand requests.
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
});
process.on('exit', () => {
  if (!started) return;
  // An in-process session answers synchronously, so the profile is written before the process ends.
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `alloc.${process.argv.slice(3).join('.')}.${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
});
