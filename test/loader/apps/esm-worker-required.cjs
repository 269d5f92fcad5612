'use strict';
// esm-worker.mjs loaded synchronously through require(esm): its import of worker_threads (the
// process's first load of it) and its Worker run within this require, before any queued code.
require('./esm-worker.mjs');
