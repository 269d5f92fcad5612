'use strict';
// Prints the process context's labels and sources, and whether the parent's claim is still in the environment.
const provenant = require(process.env.PROVENANT_DIST_INDEX);
const { labels, sources } = provenant.current();
console.log(JSON.stringify({ labels, sources, claimVisible: 'PROVENANT_PARENT_CLAIM' in process.env }));
