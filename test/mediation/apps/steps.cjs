// Runs the steps given as JSON in argv[2], each an fs operation an app (or an attacker inside
// one) might try, and prints one result per step: {ok: true, ...} or the error's code and rule.
// Every step runs whatever happened before it: a denial does not stop the script.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const { Readable } = require('node:stream');
const { pathToFileURL } = require('node:url');
const v8 = require('node:v8');

const provenant = require(process.env.PROVENANT_DIST_INDEX);

const handles = new Map();

const operations = {
  read: ({ path }) => ({ bytes: fs.readFileSync(path).length }),
  readThroughProcFd: ({ path }) => {
    const fd = fs.openSync(path, 'r');
    try {
      return { bytes: fs.readFileSync(`/proc/self/fd/${fd}`).length };
    } finally {
      fs.closeSync(fd);
    }
  },
  write: ({ path, data }) => fs.writeFileSync(path, data ?? 'derived\n'),
  link: ({ from, to }) => fs.linkSync(from, to),
  linkPromise: ({ from, to }) => fsp.link(from, to),
  linkCallback: ({ from, to }) => new Promise((resolve, reject) => fs.link(from, to, (error) => (error ? reject(error) : resolve()))),
  symlink: ({ target, path }) => fs.symlinkSync(target, path),
  symlinkPromise: ({ target, path }) => fsp.symlink(target, path),
  symlinkToUrl: ({ target, path }) => fs.symlinkSync(pathToFileURL(target), path),
  rename: ({ from, to }) => fs.renameSync(from, to),
  unlink: ({ path }) => fs.unlinkSync(path),
  rmTree: ({ path }) => fs.rmSync(path, { recursive: true }),
  openHandle: async ({ path, flags, as }) => void handles.set(as, await fsp.open(path, flags ?? 'r')),
  readHandleFd: ({ as }) => ({ bytes: fs.readSync(handles.get(as).fd, Buffer.alloc(4096)) }),
  writeHandleFd: ({ as, data }) => ({ bytes: fs.writeSync(handles.get(as).fd, data ?? 'derived\n') }),
  closeHandle: ({ as }) => handles.get(as).close(),
  /** cpSync whose filter (app code) reads `read` and writes `write` for the first entry. */
  cpSyncWithFilter: ({ from, to, read, write }) => {
    let first = true;
    fs.cpSync(from, to, {
      recursive: true,
      filter: () => {
        if (first) fs.writeFileSync(write, fs.readFileSync(read));
        first = false;
        return true;
      },
    });
  },
  openAsBlob: async ({ path }) => ({ bytes: (await (await fs.openAsBlob(path)).text()).length }),
  /** writeFile from an async generator that reads `read` (when given) before its first chunk. */
  writeFileFromGenerator: ({ path, read, data }) =>
    fsp.writeFile(
      path,
      (async function* chunks() {
        if (read) fs.readFileSync(read);
        yield data ?? 'first\n';
        yield 'second\n';
      })(),
    ),
  /**
   * writeFile (fs.promises by path, a Readable stream as data, or FileHandle.writeFile) from an
   * async generator whose second and later chunks come after reading `read`.
   */
  writeFileTaintedMidway: async ({ path, read, via }) => {
    const chunks = (async function* chunks() {
      yield 'first\n';
      fs.readFileSync(read);
      yield 'second\n';
      yield 'third\n';
      yield 'fourth\n';
    })();
    if (via === 'stream') return fsp.writeFile(path, Readable.from(chunks));
    if (via !== 'handle') return fsp.writeFile(path, chunks);
    const handle = await fsp.open(path, 'w');
    try {
      await handle.writeFile(chunks);
    } finally {
      await handle.close();
    }
  },
  writeFileFromStream: ({ path, from }) => fsp.writeFile(path, fs.createReadStream(from)),
  requireData: ({ path }) => ({ bytes: JSON.stringify(require(path)).length }),
  importData: async ({ path }) => ({
    bytes: JSON.stringify((await import(pathToFileURL(path).href, { with: { type: 'json' } })).default).length,
  }),
  // A JSON file read by the app the way Node's module loaders read sources (module-loading.ts).
  readJsonAs: async ({ path, via }) => {
    const read = {
      syncUtf8: () => fs.readFileSync(path, 'utf8'),
      promiseUtf8: () => fsp.readFile(path, 'utf8'),
      promiseUrl: () => fsp.readFile(pathToFileURL(path)),
    }[via];
    return { bytes: (await read()).length };
  },
  heapSnapshot: ({ path }) => void v8.writeHeapSnapshot(path),
  writeReport: ({ path }) => void process.report.writeReport(path),
  /**
   * Tell the test this point is reached (`<signal>.ready`), then wait until it answers
   * (`<signal>.go`): the test fills or frees the state dir's disk meanwhile, which the app itself
   * may not touch (self-protection).
   */
  handshake: async ({ signal }) => {
    // In a fresh context: the signal carries no data, whatever this process has read.
    provenant.run(() => fs.writeFileSync(`${signal}.ready`, ''));
    while (!fs.existsSync(`${signal}.go`)) await new Promise((resolve) => setTimeout(resolve, 10));
  },
  /** Wait (the journal retries a failed disk at most once a second). */
  sleep: ({ ms }) => new Promise((resolve) => setTimeout(resolve, Number(ms))),
  /** What a fresh flow context holds after reading `path`: the file's provenance as this process knows it. */
  readInFreshContext: ({ path }) =>
    provenant.run(() => {
      fs.readFileSync(path);
      return { sources: provenant.current().sources };
    }),
};

async function main() {
  const results = [];
  for (const step of JSON.parse(process.argv[2])) {
    try {
      const value = await operations[step.op](step);
      results.push({ ok: true, ...(value ?? {}) });
    } catch (error) {
      results.push({ code: error.code, rule: error.rule });
    }
  }
  console.log(JSON.stringify(results));
}

void main();
