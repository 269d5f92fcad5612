'use strict';
// Writes secret/a.txt's data to out/secret/persisted.txt with fs.promises.writeFile and kills
// itself with SIGKILL the moment the promise resolves: nothing of provenant runs after (argv[2]:
// the workspace root). Whatever the store holds then was persisted before the write resolved.
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const data = fs.readFileSync(path.join(root, 'secret', 'a.txt'));
fs.promises.writeFile(path.join(root, 'out', 'secret', 'persisted.txt'), data).then(() => process.kill(process.pid, 'SIGKILL'));
