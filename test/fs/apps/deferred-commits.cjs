'use strict';
// For each asynchronous shape, whether the node-local store was committed to inside the call
// (before it returned) and by the time it completed, as another connection sees it: SQLite's
// `data_version` changes when another connection commits. Prints `<shape> during <same|changed>
// after <same|changed>` (argv[2]: the workspace root; the store is under PROVENANT_STATE_DIR).
const fs = require('node:fs');
const path = require('node:path');
const { DatabaseSync } = require('node:sqlite');

const root = process.argv[2];
const secret = path.join(root, 'secret', 'a.txt');
const data = fs.readFileSync(secret);
const db = new DatabaseSync(path.join(process.env.PROVENANT_STATE_DIR, 'provenance.db'), { readOnly: true });
const version = db.prepare('PRAGMA data_version');
const now = () => version.get().data_version;
const callback = (call) => new Promise((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value))));
async function* chunks() {
  yield data.subarray(0, 5);
  yield data.subarray(5);
}
const shapes = {
  'fs.promises.writeFile': (file) => fs.promises.writeFile(file, data),
  'fs.writeFile': (file) => callback((done) => fs.writeFile(file, data, done)),
  'fs.promises.writeFile (chunks)': (file) => fs.promises.writeFile(file, chunks()),
  'fs.promises.copyFile': (file) => fs.promises.copyFile(secret, file),
  'fs.copyFile': (file) => callback((done) => fs.copyFile(secret, file, done)),
  'fs.promises.link': (file) => fs.promises.link(secret, file),
  'fs.open': (file) => callback((done) => fs.open(file, 'w', done)).then((fd) => fs.closeSync(fd)),
  'fs.createWriteStream': (file) =>
    new Promise((resolve, reject) => {
      const stream = fs.createWriteStream(file);
      stream.on('error', reject);
      stream.on('close', resolve);
      stream.end(data);
    }),
};

(async () => {
  for (const [name, write] of Object.entries(shapes)) {
    const file = path.join(root, 'out', 'secret', name.replace(/[^a-z]+/gi, '-'));
    const before = now();
    const pending = write(file);
    const during = now();
    await pending;
    const after = now();
    console.log(`${name} during ${during === before ? 'same' : 'changed'} after ${after === before ? 'same' : 'changed'}`);
  }
})();
