// An asynchronous fd write still waiting for its provenance to reach the disk, then a
// synchronous write, and a close, on the same fd (what sonic-boom's flushSync and destroy do):
// each lands in call order, as plain. The secret is read after the open, so the write commits new
// provenance and waits for the disk.
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const out = (name) => path.join(root, 'out', 'secret', name);

const ordered = fs.openSync(out('ordered.txt'), 'w');
const closed = fs.openSync(out('closed.txt'), 'w');
const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');

fs.write(ordered, `async ${secret}`, (error, written, data) => {
  console.log(`write callback ${error} ${written} ${JSON.stringify(data)}`);
  fs.closeSync(ordered);
  console.log(`ordered.txt ${JSON.stringify(fs.readFileSync(out('ordered.txt'), 'utf8'))}`);
  fs.write(closed, 'in flight\n', (error, written) => console.log(`in-flight write callback ${error} ${written}`));
  fs.close(closed, (error) => {
    console.log(`close callback ${error}`);
    console.log(`closed.txt ${JSON.stringify(fs.readFileSync(out('closed.txt'), 'utf8'))}`);
  });
});
fs.writeSync(ordered, 'sync\n');
console.log('writeSync returned');
