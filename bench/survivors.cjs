// A preload for finding what outlives V8's young generation: a sampling heap profile of objects
// that survived scavenges (objects a scavenge freed are dropped from it, objects a full GC freed
// are kept), written to SURVIVORS_PROFILE (default ./survivors.heapprofile) when the process gets
// SIGTERM. Loaded before provenant's preload, so its inspector session is the app's own.
//
//   node bench/memory.mjs --variants provenant --requests 20000 --samples 2 --repeat-requests 0 --node-args '-r ./bench/survivors.cjs'
//   node bench/profile-summary.mjs survivors.heapprofile [--stacks NAME]
'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');

const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: false,
});
process.once('SIGTERM', () => {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) console.error(`survivors: ${error.message}`);
    else fs.writeFileSync(process.env.SURVIVORS_PROFILE ?? 'survivors.heapprofile', JSON.stringify(result.profile));
    process.exit(0);
  });
});
