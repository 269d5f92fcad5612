'use strict';
// Loads several app modules (require and import); one of them reads secret/a.txt at top level,
// which is a flow. Then writes what the process holds to out/secret/loading.txt.
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
require('./mods/one.cjs');
require('./mods/two.cjs');
require('./mods/data.json');
Promise.all([import('./mods/three.mjs'), import('./mods/four.mjs')]).then(() => {
  fs.writeFileSync(path.join(root, 'out/secret/loading.txt'), 'derived');
  console.log('done');
});
