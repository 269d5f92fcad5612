// One fs.WriteStream to a public log, written from three flow contexts: A (clean), B (has read a
// secret file), A again. argv[2]: the workspace root; argv[3]: 'path' or 'handle' (a stream made
// from a FileHandle). Prints each write's callback outcome and whether the stream survived.
const fs = require('node:fs');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const [root, kind] = process.argv.slice(2);
const outcome = (results, key) => (error) => (results[key] = error ? error.code : 'ok');

async function main() {
  const logPath = `${root}/out/public/log.txt`;
  const log = kind === 'handle' ? (await fs.promises.open(logPath, 'w')).createWriteStream() : fs.createWriteStream(logPath);
  const results = {};
  log.on('error', (error) => (results.streamError = error.code));
  provenant.run(() => log.write('A1\n', outcome(results, 'a1')));
  provenant.run(() => {
    fs.readFileSync(`${root}/secret/a.txt`);
    log.write('B: patient 7\n', outcome(results, 'b'));
  });
  provenant.run(() => log.write('A2\n', outcome(results, 'a2')));
  provenant.run(() => {
    fs.readFileSync(`${root}/secret/a.txt`);
    log.end('B: last words\n', outcome(results, 'bEnd'));
  });
  log.on('close', () => console.log(JSON.stringify({ ...results, destroyedByError: log.errored !== null })));
}

void main();
