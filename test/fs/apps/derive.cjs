'use strict';
// Reads argv[3] and writes what it read to argv[4] (both relative to the workspace root argv[2]).
// Prints the outcome: {ok:true} or the denial's code.
const fs = require('node:fs');
const path = require('node:path');

const [root, from, to] = process.argv.slice(2);
const data = fs.readFileSync(path.join(root, from));
try {
  fs.writeFileSync(path.join(root, to), data);
  console.log(JSON.stringify({ ok: true }));
} catch (error) {
  console.log(JSON.stringify({ code: error.code }));
}
