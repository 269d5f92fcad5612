'use strict';
// One of several processes appending to the same file at once: each append follows the read of
// a source of its own (in its own flow context), so every append grows the file's provenance.
const fs = require('node:fs');
const path = require('node:path');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const [root, writer, count] = process.argv.slice(2);
const shared = path.join(root, 'out/secret/shared.txt');
for (let i = 0; i < Number(count); i++) {
  provenant.run(() => fs.appendFileSync(shared, fs.readFileSync(path.join(root, 'secret', `src-${writer}-${i}.txt`))));
}
