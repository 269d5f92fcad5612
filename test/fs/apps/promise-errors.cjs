'use strict';
// Asynchronous fs calls Node refuses (bad arguments, missing files, a closed handle), from a
// context that read a secret: prints `<call> <how it failed> <code>` for each, to compare with
// plain Node (argv[2]: the workspace root). Calls to a public file have data Node refuses before
// any decision. Promise calls reject; callback calls throw or hand the callback the error.
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const at = (relative) => path.join(root, relative);
const ok = at('out/secret/ok.txt');
const missing = at('out/secret/missing.txt');

(async () => {
  fs.readFileSync(at('secret/a.txt'));
  const closed = await fs.promises.open(ok, 'w');
  await closed.close();
  const handle = await fs.promises.open(ok, 'w');
  const calls = {
    'writeFile number data to a public file': () => fs.promises.writeFile(at('out/public/p.txt'), 42),
    'appendFile object data to a public file': () => fs.promises.appendFile(at('out/public/p.txt'), {}),
    'writeFile object path': () => fs.promises.writeFile({}, 'x'),
    'writeFile NUL in path': () => fs.promises.writeFile(`${ok}\0x`, 'x'),
    'writeFile bad encoding': () => fs.promises.writeFile(ok, 'x', { encoding: 'nope' }),
    'writeFile bad flag': () => fs.promises.writeFile(ok, 'x', { flag: 'bogus' }),
    'writeFile bad flush': () => fs.promises.writeFile(ok, 'x', { flush: 'yes' }),
    'writeFile missing folder': () => fs.promises.writeFile(at('out/secret/none/x.txt'), 'x'),
    'truncate missing file': () => fs.promises.truncate(missing),
    'copyFile missing file': () => fs.promises.copyFile(missing, at('out/secret/copy.txt')),
    'rename missing file': () => fs.promises.rename(missing, at('out/secret/renamed.txt')),
    'unlink missing file': () => fs.promises.unlink(missing),
    'FileHandle#write number': () => handle.write(42),
    'FileHandle#writeFile number': () => handle.writeFile(42),
    'FileHandle#writev not an array': () => handle.writev('x'),
    'FileHandle#write on a closed handle': () => closed.write('x'),
  };
  for (const [name, call] of Object.entries(calls)) {
    let pending;
    try {
      pending = call();
    } catch (error) {
      console.log(`${name} threw ${error.code}`);
      continue;
    }
    const code = await pending.then(
      () => 'none',
      (error) => error.code,
    );
    console.log(`${name} rejected ${code}`);
  }
  await handle.close();
  const callbacks = {
    'fs.writeFile missing folder': (done) => fs.writeFile(at('out/secret/none/x.txt'), 'x', done),
    'fs.appendFile missing folder, encoding': (done) => fs.appendFile(at('out/secret/none/x.txt'), 'x', 'utf8', done),
    'fs.writeFile number data': (done) => fs.writeFile(ok, 42, done),
    'fs.appendFile number data to a public file': (done) => fs.appendFile(at('out/public/p.txt'), 42, done),
    'fs.writeFile no callback': () => fs.writeFile(ok, 'x'),
  };
  for (const [name, call] of Object.entries(callbacks)) {
    const code = await new Promise((resolve) => {
      try {
        call((error) => resolve(`callback ${error ? error.code : 'none'}`));
      } catch (error) {
        resolve(`threw ${error.code}`);
      }
    });
    console.log(`${name} ${code}`);
  }
})();
