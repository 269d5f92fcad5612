'use strict';
// Prints the process context's labels and whether the parent's claim is still in the environment.
const provenant = require(process.env.PROVENANT_DIST_INDEX);
console.log(JSON.stringify({ labels: provenant.current().labels, claimVisible: 'PROVENANT_PARENT_CLAIM' in process.env }));
