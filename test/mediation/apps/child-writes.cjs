'use strict';
// A child handed data as argv[3]: writes it to out/public/child.txt and out/secret/child.txt and
// prints its context's labels and both outcomes.
const writeOutcome = require('./write-outcome.cjs');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const [root, data] = process.argv.slice(2);
const write = (to) => writeOutcome(root, to, data);
const labels = provenant.current().labels;
console.log(JSON.stringify({ labels, toPublic: write('out/public/child.txt'), toSecret: write('out/secret/child.txt') }));
process.exit(0);
