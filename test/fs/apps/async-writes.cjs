'use strict';
// Reads secret/a.txt, tries to write it to out/public through the asynchronous APIs (denied),
// then writes it to out/secret/<i>.txt through them in turn, printing `resolved <i>` once each
// write's promise or callback has succeeded, until it is killed (argv[2]: the workspace root).
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const data = fs.readFileSync(path.join(root, 'secret', 'a.txt'));
const leak = path.join(root, 'out', 'public', 'leak.txt');
const viaCallback = (file) => new Promise((resolve, reject) => fs.writeFile(file, data, (error) => (error ? reject(error) : resolve())));
const viaHandle = async (file) => {
  const handle = await fs.promises.open(file, 'w');
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
};
const writers = [(file) => fs.promises.writeFile(file, data), viaCallback, viaHandle];

(async () => {
  for (const write of writers) {
    const outcome = await write(leak).then(
      () => 'written',
      (error) => error.code,
    );
    console.log(`denied ${outcome}`);
  }
  for (let i = 0; i < 100_000; i++) {
    await writers[i % writers.length](path.join(root, 'out', 'secret', `${i}.txt`));
    console.log(`resolved ${i}`);
  }
})();
