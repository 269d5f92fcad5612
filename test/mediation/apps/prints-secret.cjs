'use strict';
// Reads secret/a.txt and prints it on stdout and stderr, then a line that carries nothing.
const fs = require('node:fs');
const path = require('node:path');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const secret = fs.readFileSync(path.join(process.argv[2], 'secret', 'a.txt'), 'utf8');
console.log(secret);
console.error(secret);
provenant.run(() => console.log('nothing secret'));
process.disconnect();
