'use strict';
// Every fs shape in one process (keeps the suite fast). argv[2] is the workspace root (also the
// cwd). Each shape runs in its own provenant.run() context: it reads secret/a.txt, then writes
// through the shape once to out/secret (allowed) and once to out/public (denied). Read shapes
// read secret/a.txt through the shape and write what they read to out/secret/read-<shape>.txt.
// Prints one JSON line: { writes: {shape: {allowed, denied}}, reads: {shape: outcome}, removed: [...] }.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const root = process.argv[2];
const SECRET = path.join(root, 'secret', 'a.txt');
const ORIGINAL = 'original\n';
const slug = (name) => name.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '');

// --- outcome capture: which shape the error arrived in ----------------------------------------
const ok = { ok: true };
const failed = (error, via) => ({ code: error && error.code, via, message: error && error.message });

const sync = (fn) => async (dest, data) => {
  try {
    fn(dest, data);
    return ok;
  } catch (error) {
    return failed(error, 'throw');
  }
};
const callback = (fn) => (dest, data) =>
  new Promise((resolve) => {
    let returned = false;
    try {
      fn(dest, data, (error) => resolve(error ? failed(error, returned ? 'callback' : 'callback-sync') : ok));
    } catch (error) {
      resolve(failed(error, 'throw'));
    }
    returned = true;
  });
const promise = (fn) => async (dest, data) => {
  let pending;
  try {
    pending = fn(dest, data);
  } catch (error) {
    return failed(error, 'throw');
  }
  try {
    await pending;
    return ok;
  } catch (error) {
    return failed(error, 'reject');
  }
};
const stream = (make) => (dest, data) =>
  new Promise((resolve) => {
    let writable;
    try {
      writable = make(dest);
    } catch (error) {
      return resolve(failed(error, 'throw'));
    }
    Promise.resolve(writable).then(
      (w) => {
        w.on('error', (error) => resolve(failed(error, 'stream')));
        w.on('finish', () => resolve(ok));
        w.write(data);
        w.end();
      },
      (error) => resolve(failed(error, 'reject')),
    );
  });

// --- write shapes: (dest, data) ----------------------------------------------------------------
// `existing`: the destination holds ORIGINAL before the shape runs (else it is absent).
const writes = [
  { name: 'writeFileSync', existing: true, run: sync((d, data) => fs.writeFileSync(d, data)) },
  { name: 'writeFileSync new', run: sync((d, data) => fs.writeFileSync(d, data)) },
  { name: 'writeFileSync Buffer data', run: sync((d, data) => fs.writeFileSync(d, Buffer.from(data))) },
  { name: 'writeFileSync URL', run: sync((d, data) => fs.writeFileSync(pathToFileURL(d), data)) },
  { name: 'writeFileSync Buffer path', run: sync((d, data) => fs.writeFileSync(Buffer.from(d), data)) },
  { name: 'writeFileSync relative path', run: sync((d, data) => fs.writeFileSync(path.relative(process.cwd(), d), data)) },
  { name: 'appendFileSync', existing: true, run: sync((d, data) => fs.appendFileSync(d, data)) },
  { name: 'openSync w + writeSync', existing: true, run: sync((d, data) => withFd(d, 'w', (fd) => fs.writeSync(fd, data))) },
  { name: 'openSync wx + writeSync', run: sync((d, data) => withFd(d, 'wx', (fd) => fs.writeSync(fd, data))) },
  {
    name: 'openSync a + writevSync',
    existing: true,
    run: sync((d, data) => withFd(d, 'a', (fd) => fs.writevSync(fd, [Buffer.from(data)]))),
  },
  { name: 'openSync a+ + writeSync', existing: true, run: sync((d, data) => withFd(d, 'a+', (fd) => fs.writeSync(fd, data))) },
  { name: 'openSync r+ + writeSync', existing: true, run: sync((d, data) => withFd(d, 'r+', (fd) => fs.writeSync(fd, data))) },
  { name: 'openSync w+ + writeSync', existing: true, run: sync((d, data) => withFd(d, 'w+', (fd) => fs.writeSync(fd, data))) },
  {
    name: 'openSync O_WRONLY|O_CREAT|O_TRUNC',
    existing: true,
    run: sync((d, data) => withFd(d, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, (fd) => fs.writeSync(fd, data))),
  },
  {
    name: 'openSync O_RDWR|O_APPEND',
    existing: true,
    run: sync((d, data) => withFd(d, fs.constants.O_RDWR | fs.constants.O_APPEND, (fd) => fs.writeSync(fd, data))),
  },
  { name: 'writeFileSync fd', existing: true, run: sync((d, data) => withFd(d, 'r+', (fd) => fs.writeFileSync(fd, data))) },
  { name: 'truncateSync', existing: true, run: sync((d) => fs.truncateSync(d, 2)) },
  { name: 'openSync r+ + ftruncateSync', existing: true, run: sync((d) => withFd(d, 'r+', (fd) => fs.ftruncateSync(fd, 2))) },
  { name: 'writeFile', existing: true, run: callback((d, data, cb) => fs.writeFile(d, data, cb)) },
  { name: 'writeFile new', run: callback((d, data, cb) => fs.writeFile(d, data, cb)) },
  { name: 'appendFile', existing: true, run: callback((d, data, cb) => fs.appendFile(d, data, cb)) },
  { name: 'appendFile new', run: callback((d, data, cb) => fs.appendFile(d, data, cb)) },
  {
    name: 'open w + write',
    existing: true,
    run: callback((d, data, cb) =>
      fs.open(d, 'w', (error, fd) => (error ? cb(error) : fs.write(fd, data, (e) => fs.close(fd, () => cb(e))))),
    ),
  },
  {
    name: 'open a + writev',
    existing: true,
    run: callback((d, data, cb) =>
      fs.open(d, 'a', (error, fd) => (error ? cb(error) : fs.writev(fd, [Buffer.from(data)], (e) => fs.close(fd, () => cb(e))))),
    ),
  },
  { name: 'truncate', existing: true, run: callback((d, _data, cb) => fs.truncate(d, 2, cb)) },
  {
    name: 'open r+ + ftruncate',
    existing: true,
    run: callback((d, _data, cb) =>
      fs.open(d, 'r+', (error, fd) => (error ? cb(error) : fs.ftruncate(fd, 2, (e) => fs.close(fd, () => cb(e))))),
    ),
  },
  { name: 'promises.writeFile', existing: true, run: promise((d, data) => fsp.writeFile(d, data)) },
  { name: 'promises.writeFile new', run: promise((d, data) => fsp.writeFile(d, data)) },
  { name: 'promises.appendFile', existing: true, run: promise((d, data) => fsp.appendFile(d, data)) },
  { name: 'promises.truncate', existing: true, run: promise((d) => fsp.truncate(d, 2)) },
  { name: 'promises.open w + FileHandle.write', existing: true, run: promise((d, data) => withHandle(d, 'w', (fh) => fh.write(data))) },
  { name: 'FileHandle.writev', existing: true, run: promise((d, data) => withHandle(d, 'a', (fh) => fh.writev([Buffer.from(data)]))) },
  { name: 'FileHandle.writeFile', existing: true, run: promise((d, data) => withHandle(d, 'r+', (fh) => fh.writeFile(data))) },
  { name: 'FileHandle.appendFile', existing: true, run: promise((d, data) => withHandle(d, 'r+', (fh) => fh.appendFile(data))) },
  { name: 'FileHandle.truncate', existing: true, run: promise((d) => withHandle(d, 'r+', (fh) => fh.truncate(2))) },
  {
    name: 'promises.writeFile FileHandle',
    existing: true,
    run: promise((d, data) => withHandle(d, 'r+', (fh) => fsp.writeFile(fh, data))),
  },
  { name: 'createWriteStream', existing: true, run: stream((d) => fs.createWriteStream(d)) },
  { name: 'createWriteStream new', run: stream((d) => fs.createWriteStream(d)) },
  { name: 'createWriteStream flags a', existing: true, run: stream((d) => fs.createWriteStream(d, { flags: 'a' })) },
  { name: 'FileHandle.createWriteStream', existing: true, run: stream((d) => fsp.open(d, 'r+').then((fh) => fh.createWriteStream())) },
];

// Transfers move the *source file's* provenance (secret/a.txt), not the context's.
const transfers = [
  { name: 'copyFileSync', run: sync((d) => fs.copyFileSync(SECRET, d)) },
  { name: 'copyFileSync existing', existing: true, run: sync((d) => fs.copyFileSync(SECRET, d)) },
  { name: 'cpSync', run: sync((d) => fs.cpSync(SECRET, d)) },
  { name: 'copyFile', run: callback((d, _data, cb) => fs.copyFile(SECRET, d, cb)) },
  { name: 'cp', run: callback((d, _data, cb) => fs.cp(SECRET, d, cb)) },
  { name: 'promises.copyFile', run: promise((d) => fsp.copyFile(SECRET, d)) },
  { name: 'promises.cp', run: promise((d) => fsp.cp(SECRET, d)) },
  { name: 'renameSync', moves: true, run: sync((d, src) => fs.renameSync(src, d)) },
  { name: 'rename', moves: true, run: callback((d, src, cb) => fs.rename(src, d, cb)) },
  { name: 'promises.rename', moves: true, run: promise((d, src) => fsp.rename(src, d)) },
];

// --- read shapes: (source) → data ------------------------------------------------------------------
const reads = [
  { name: 'readFileSync', run: (s) => fs.readFileSync(s) },
  { name: 'readFileSync utf8', run: (s) => fs.readFileSync(s, 'utf8') },
  { name: 'readFileSync URL', run: (s) => fs.readFileSync(pathToFileURL(s)) },
  { name: 'readFileSync Buffer path', run: (s) => fs.readFileSync(Buffer.from(s)) },
  { name: 'readFileSync relative path', run: (s) => fs.readFileSync(path.relative(process.cwd(), s)) },
  { name: 'readFileSync fd', run: (s) => withFd(s, 'r', (fd) => fs.readFileSync(fd)) },
  { name: 'openSync + readSync', run: (s) => withFd(s, 'r', (fd) => readInto(fd)) },
  {
    name: 'openSync + readvSync',
    run: (s) =>
      withFd(s, 'r', (fd) => {
        const b = Buffer.alloc(64);
        return b.subarray(0, fs.readvSync(fd, [b]));
      }),
  },
  { name: 'readFile', run: (s) => new Promise((res, rej) => fs.readFile(s, (e, d) => (e ? rej(e) : res(d)))) },
  {
    name: 'open + read',
    run: (s) =>
      new Promise((res, rej) =>
        fs.open(s, 'r', (e, fd) => {
          if (e) return rej(e);
          const b = Buffer.alloc(64);
          fs.read(fd, b, 0, 64, 0, (e2, n) => fs.close(fd, () => (e2 ? rej(e2) : res(b.subarray(0, n)))));
        }),
      ),
  },
  {
    name: 'open + readv',
    run: (s) =>
      new Promise((res, rej) =>
        fs.open(s, 'r', (e, fd) => {
          if (e) return rej(e);
          const b = Buffer.alloc(64);
          fs.readv(fd, [b], (e2, n) => fs.close(fd, () => (e2 ? rej(e2) : res(b.subarray(0, n)))));
        }),
      ),
  },
  { name: 'promises.readFile', run: (s) => fsp.readFile(s) },
  { name: 'promises.readFile FileHandle', run: (s) => withHandle(s, 'r', (fh) => fsp.readFile(fh)) },
  {
    name: 'FileHandle.read',
    run: (s) =>
      withHandle(s, 'r', async (fh) => {
        const { buffer, bytesRead } = await fh.read(Buffer.alloc(64), 0, 64, 0);
        return buffer.subarray(0, bytesRead);
      }),
  },
  {
    name: 'FileHandle.readv',
    run: (s) =>
      withHandle(s, 'r', async (fh) => {
        const b = Buffer.alloc(64);
        const { bytesRead } = await fh.readv([b], 0);
        return b.subarray(0, bytesRead);
      }),
  },
  { name: 'FileHandle.readFile', run: (s) => withHandle(s, 'r', (fh) => fh.readFile()) },
  {
    name: 'FileHandle.readLines',
    run: (s) =>
      withHandle(s, 'r', async (fh) => {
        let text = '';
        for await (const line of fh.readLines()) text += line;
        return text;
      }),
  },
  { name: 'FileHandle.createReadStream', run: (s) => fsp.open(s, 'r').then((fh) => collect(fh.createReadStream())) },
  { name: 'createReadStream', run: (s) => collect(fs.createReadStream(s)) },
];

function withFd(file, flags, use) {
  const fd = fs.openSync(file, flags);
  try {
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}

async function withHandle(file, flags, use) {
  const fh = await fsp.open(file, flags);
  try {
    return await use(fh);
  } finally {
    await fh.close();
  }
}

function readInto(fd) {
  const b = Buffer.alloc(64);
  return b.subarray(0, fs.readSync(fd, b, 0, 64, 0));
}

async function collect(readable) {
  const chunks = [];
  for await (const chunk of readable) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function main() {
  const out = { writes: {}, reads: {}, removed: [] };
  for (const shape of [...writes, ...transfers]) {
    const result = {};
    for (const [outcome, dir] of [
      ['allowed', 'out/secret'],
      ['denied', 'out/public'],
    ]) {
      const dest = path.join(root, dir, `w-${slug(shape.name)}.txt`);
      if (shape.existing) fs.writeFileSync(dest, ORIGINAL);
      // A rename's source is a secret file of its own (it is gone afterwards).
      const source = path.join(root, 'secret', `mv-${slug(shape.name)}-${outcome}.txt`);
      if (shape.moves) fs.copyFileSync(SECRET, source);
      result[outcome] = await provenant.run(async () => {
        const data = fs.readFileSync(SECRET, 'utf8');
        return shape.run(dest, shape.moves ? source : data);
      });
    }
    result.existing = Boolean(shape.existing);
    out.writes[shape.name] = result;
  }

  // An fd opened for writing before the context held secret data is checked again at write time.
  const lateDest = path.join(root, 'out/public', 'w-fd-checked-at-write-time.txt');
  out.writes['writeSync on an fd opened before the read'] = {
    denied: provenant.run(() => {
      const fd = fs.openSync(lateDest, 'w');
      try {
        fs.writeSync(fd, fs.readFileSync(SECRET));
        return ok;
      } catch (error) {
        return failed(error, 'throw');
      } finally {
        fs.closeSync(fd);
      }
    }),
  };

  for (const shape of reads) {
    out.reads[shape.name] = await provenant.run(async () => {
      try {
        const data = await shape.run(SECRET);
        fs.writeFileSync(path.join(root, 'out/secret', `read-${slug(shape.name)}.txt`), data);
        return String(data) === fs.readFileSync(SECRET, 'utf8').trim() || String(data) === fs.readFileSync(SECRET, 'utf8')
          ? ok
          : { ok: false, data: String(data) };
      } catch (error) {
        return failed(error, 'throw');
      }
    });
  }

  // unlink / rm retire the provenance of what they remove.
  const derived = (name) => {
    const file = path.join(root, 'out/secret', name);
    provenant.run(() => fs.writeFileSync(file, fs.readFileSync(SECRET)));
    return file;
  };
  fs.unlinkSync(derived('rm-unlinkSync.txt'));
  await new Promise((resolve) => fs.unlink(derived('rm-unlink.txt'), resolve));
  await fsp.unlink(derived('rm-promises-unlink.txt'));
  await fsp.rm(derived('rm-promises-rm.txt'));
  fs.mkdirSync(path.join(root, 'out/secret/rm-tree/sub'), { recursive: true });
  derived('rm-tree/one.txt');
  derived('rm-tree/sub/two.txt');
  fs.rmSync(path.join(root, 'out/secret/rm-tree'), { recursive: true });
  await new Promise((resolve) => fs.rm(derived('rm-rm.txt'), resolve));
  out.removed = [
    'rm-unlinkSync.txt',
    'rm-unlink.txt',
    'rm-promises-unlink.txt',
    'rm-promises-rm.txt',
    'rm-tree/one.txt',
    'rm-tree/sub/two.txt',
    'rm-rm.txt',
  ];

  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
