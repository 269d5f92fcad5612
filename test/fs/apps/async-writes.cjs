'use strict';
// Reads secret/a.txt, tries to write it to out/public through each asynchronous shape (denied),
// then writes it to out/secret/<i>.txt through them in turn, printing `resolved <i>` once each
// write's promise or callback has succeeded, until it is killed (argv[2]: the workspace root).
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const secret = path.join(root, 'secret', 'a.txt');
const data = fs.readFileSync(secret);
const leak = path.join(root, 'out', 'public', 'leak.txt');
const callback = (call) => new Promise((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value))));
const viaHandle = async (file) => {
  const handle = await fs.promises.open(file, 'w');
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
};
async function* chunks() {
  yield data.subarray(0, 5);
  yield data.subarray(5);
}
const viaFd = async (file) => {
  const fd = await callback((done) => fs.open(file, 'w', done));
  try {
    await callback((done) => fs.write(fd, data, done));
  } finally {
    fs.closeSync(fd);
  }
};
const viaStream = (file) =>
  new Promise((resolve, reject) => {
    const stream = fs.createWriteStream(file);
    stream.on('error', reject);
    stream.on('close', resolve);
    stream.end(data);
  });
const shapes = {
  'fs.promises.writeFile': (file) => fs.promises.writeFile(file, data),
  'fs.writeFile': (file) => callback((done) => fs.writeFile(file, data, done)),
  'FileHandle#writeFile': viaHandle,
  'fs.promises.writeFile (chunks)': (file) => fs.promises.writeFile(file, chunks()),
  'fs.promises.copyFile': (file) => fs.promises.copyFile(secret, file),
  'fs.copyFile': (file) => callback((done) => fs.copyFile(secret, file, done)),
  'fs.promises.link': (file) => fs.promises.link(secret, file),
  'fs.open + fs.write': viaFd,
  'fs.createWriteStream': viaStream,
  // A labelled file of this process's own (written by the synchronous API), moved into place.
  'fs.promises.rename': (file) => {
    const moved = path.join(root, 'out', 'secret', `${path.basename(file)}.tmp`);
    fs.writeFileSync(moved, data);
    return fs.promises.rename(moved, file);
  },
};
const writers = Object.values(shapes);

(async () => {
  for (const [name, write] of Object.entries(shapes)) {
    const outcome = await write(leak).then(
      () => 'written',
      (error) => error.code,
    );
    console.log(`denied ${outcome} ${name}`);
  }
  for (let i = 0; i < 100_000; i++) {
    await writers[i % writers.length](path.join(root, 'out', 'secret', `${i}.txt`));
    console.log(`resolved ${i}`);
  }
})();
