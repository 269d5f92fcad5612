'use strict';
// 10,000 chunk writes through one write stream, then the file is read back through a read stream.
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const secret = fs.readFileSync(path.join(root, 'secret/a.txt'));
const target = path.join(root, 'out/secret/stream.txt');
const out = fs.createWriteStream(target);
for (let i = 0; i < 10_000; i++) out.write(secret);
out.end(() => {
  let bytes = 0;
  fs.createReadStream(target, { highWaterMark: 4096 })
    .on('data', (chunk) => (bytes += chunk.length))
    .on('end', () => console.log(JSON.stringify({ bytes })));
});
