'use strict';
// Promise fs calls decide after they return (issue 16), yet as if inside the call: with the
// context as it was then, in call order, before any later flow; a denial moves nothing. Prints one
// line per check (argv[2]: the workspace root).
const fs = require('node:fs');
const path = require('node:path');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const root = process.argv[2];
const at = (relative) => path.join(root, relative);
const outcome = (pending) =>
  pending.then(
    () => 'ok',
    (error) => error.code,
  );
const contents = (relative) => (fs.existsSync(at(relative)) ? JSON.stringify(fs.readFileSync(at(relative), 'utf8')) : 'absent');

(async () => {
  const kept = 'out/public/kept.txt';
  fs.writeFileSync(at(kept), 'public\n');
  fs.writeFileSync(at('out/secret/moving.txt'), 'to be moved\n');
  // Opened while the context is clean: writing through it later is decided with what it then holds.
  const handle = await fs.promises.open(at(kept), 'r+');

  // Called while clean; the secret read later in the same synchronous run does not taint it.
  const clean = fs.promises.writeFile(at('out/public/clean.txt'), 'clean\n');
  const data = fs.readFileSync(at('secret/a.txt'));
  console.log(`called before the read ${await outcome(clean)} ${contents('out/public/clean.txt')}`);
  const deniedCallback = new Promise((resolve, reject) => fs.writeFile(at(kept), data, (error) => (error ? reject(error) : resolve())));
  console.log(`fs.writeFile ${await outcome(deniedCallback)}`);

  const denied = {
    'fs.promises.writeFile': () => fs.promises.writeFile(at(kept), data),
    'fs.promises.appendFile': () => fs.promises.appendFile(at(kept), data),
    'fs.promises.truncate': () => fs.promises.truncate(at(kept), 0),
    'fs.promises.copyFile': () => fs.promises.copyFile(at('secret/a.txt'), at('out/public/copy.txt')),
    'fs.promises.cp': () => fs.promises.cp(at('secret/a.txt'), at('out/public/cp.txt')),
    'fs.promises.rename': () => fs.promises.rename(at('out/secret/moving.txt'), at('out/public/moved.txt')),
    'FileHandle#write': () => handle.write(data),
    'FileHandle#writeFile': () => handle.writeFile(data),
    'FileHandle#truncate': () => handle.truncate(0),
  };
  for (const [shape, call] of Object.entries(denied)) {
    const pending = call();
    console.log(`${shape} ${pending instanceof Promise ? 'promise' : typeof pending} ${await outcome(pending)}`);
  }
  await handle.close();
  console.log(
    `after the denials ${contents(kept)} ${contents('out/secret/moving.txt')} ${fs.readdirSync(at('out/public')).sort().join(',')}`,
  );

  // The allowed twins.
  const allowed = {
    'fs.promises.writeFile': () => fs.promises.writeFile(at('out/secret/w.txt'), data),
    'fs.promises.appendFile': () => fs.promises.appendFile(at('out/secret/w.txt'), 'appended\n'),
    'fs.promises.copyFile': () => fs.promises.copyFile(at('secret/a.txt'), at('out/secret/copy.txt')),
    'fs.promises.rename': () => fs.promises.rename(at('out/secret/moving.txt'), at('out/secret/moved.txt')),
  };
  for (const [shape, call] of Object.entries(allowed)) console.log(`${shape} ${await outcome(call())}`);
  console.log(`after the twins ${contents('out/secret/w.txt')} ${contents('out/secret/moved.txt')}`);

  // A close right after a write it does not wait for: the write lands first, as plain.
  const secretHandle = await fs.promises.open(at('out/secret/handle.txt'), 'w');
  const written = secretHandle.write(data);
  await secretHandle.close();
  console.log(`write then close ${await outcome(written)} ${contents('out/secret/handle.txt')}`);

  // Writes one after the other land in order; a read after an awaited write carries what it wrote.
  const ordered = 'out/secret/ordered.txt';
  await fs.promises.writeFile(at(ordered), 'one\n');
  await fs.promises.appendFile(at(ordered), 'two\n');
  await fs.promises.writeFile(at(ordered), data);
  await fs.promises.appendFile(at(ordered), 'three\n');
  const read = provenant.run(() => {
    fs.readFileSync(at(ordered));
    return provenant.current();
  });
  console.log(`in order ${contents(ordered)} tags ${read.labels.tags.join(',')}`);

  // A synchronous copy in the same run as a promise write is decided after it, with what it wrote.
  const pendingWrite = fs.promises.writeFile(at('out/secret/fresh.txt'), data);
  try {
    fs.copyFileSync(at('out/secret/fresh.txt'), at('out/public/leak.txt'));
    console.log('copy in the same run copied');
  } catch (error) {
    console.log(`copy in the same run ${error.code} ${contents('out/public/leak.txt')}`);
  }
  console.log(`its write ${await outcome(pendingWrite)}`);
})();
