'use strict';
// Preloaded first by bench/transparency.mjs: prints the process's CPU time (all threads, µs) as it ends.
process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stderr.write(`cpu-at-exit ${usage.userCPUTime + usage.systemCPUTime}\n`);
});
