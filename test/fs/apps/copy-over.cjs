'use strict';
// Copies onto a file that already exists (argv[2]: the workspace root): secret/a.txt onto
// out/secret/x.txt twice, the second time asynchronously, when x.txt already holds exactly what
// the copy brings; then plain.txt (no labels, no sources) onto x.txt asynchronously, which must
// replace what x.txt held. For each asynchronous copy, prints whether the node-local store was
// committed to inside the call and by the time it completed, as another connection sees it
// (SQLite's `data_version`): `<copy> during <same|changed> after <same|changed>`.
const fs = require('node:fs');
const path = require('node:path');
const { DatabaseSync } = require('node:sqlite');

const root = process.argv[2];
const secret = path.join(root, 'secret', 'a.txt');
const plain = path.join(root, 'plain.txt');
const x = path.join(root, 'out', 'secret', 'x.txt');
fs.writeFileSync(plain, 'nothing to hide\n');
// x.txt exists before the first copy, so its provenance is kept under the inode at once (a new
// file's waits under its path until the next merge folds it in, which is a commit of its own).
fs.writeFileSync(x, '');
const db = new DatabaseSync(path.join(process.env.PROVENANT_STATE_DIR, 'provenance.db'), { readOnly: true });
const version = db.prepare('PRAGMA data_version');
const now = () => version.get().data_version;

(async () => {
  // In a later run: a file that did not exist is looked up afresh once the run it was created in is over.
  await new Promise(setImmediate);
  fs.copyFileSync(secret, x);
  for (const [name, from] of [
    ['same source again', secret],
    ['plain over it', plain],
  ]) {
    const before = now();
    const pending = fs.promises.copyFile(from, x);
    const during = now();
    await pending;
    const after = now();
    console.log(`${name} during ${during === before ? 'same' : 'changed'} after ${after === before ? 'same' : 'changed'}`);
  }
})();
