'use strict';
// Reads secret/a.txt, then writes it to out/uploads/<name> for every name in argv[3..].
const fs = require('node:fs');
const path = require('node:path');

const [root, ...names] = process.argv.slice(2);
const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'));
fs.mkdirSync(path.join(root, 'out', 'uploads'), { recursive: true });
const result = {};
for (const name of names) {
  try {
    fs.writeFileSync(path.join(root, 'out', 'uploads', name), secret);
    result[name] = 'written';
  } catch (error) {
    result[name] = error.code;
  }
}
console.log(JSON.stringify(result));
