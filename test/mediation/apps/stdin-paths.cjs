'use strict';
// Starts one `cat` per way of writing to its stdin (`write`, `Writable.prototype.write.call`, the
// pipe handle's own `writeUtf8String`) from a clean context and writes a public line through it;
// then reads secret/a.txt and tries the same way on the same child (a denied write destroys the
// pipe, so each way has its own). Prints {public: {...}, secret: {...}, catOutput: {...}}.
const fs = require('node:fs');
const path = require('node:path');
const stream = require('node:stream');
const cp = require('node:child_process');
const { WriteWrap } = process.binding('stream_wrap');

const root = process.argv[2];
const outcomeOf = (error) => (error ? (error.code === 'ERR_PROVENANCE_DENIED' ? `denied:${error.rule}` : `failed:${error.code}`) : 'sent');
const ways = {
  write: (stdin, text) => new Promise((resolve) => stdin.write(text, (error) => resolve(outcomeOf(error)))),
  'Writable.prototype.write.call': (stdin, text) =>
    new Promise((resolve) => stream.Writable.prototype.write.call(stdin, text, (error) => resolve(outcomeOf(error)))),
  'handle.writeUtf8String': async (stdin, text) => {
    const req = new WriteWrap();
    req.handle = stdin._handle;
    req.oncomplete = () => undefined;
    return stdin._handle.writeUtf8String(req, text) === 0 ? 'sent' : 'refused';
  },
};

const cats = Object.keys(ways).map((name) => {
  const cat = cp.spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const each = { name, cat, output: '', closed: new Promise((resolve) => cat.on('close', resolve)) };
  cat.stdout.setEncoding('utf8').on('data', (chunk) => (each.output += chunk));
  cat.stdin.on('error', () => {});
  return each;
});

(async () => {
  const results = { public: {}, secret: {}, catOutput: {} };
  for (const { name, cat } of cats) results.public[name] = await ways[name](cat.stdin, `public ${name}\n`);
  const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  for (const { name, cat } of cats) results.secret[name] = await ways[name](cat.stdin, secret);
  for (const each of cats) {
    each.cat.stdin.end();
    await each.closed;
    results.catOutput[each.name] = each.output;
  }
  console.log(JSON.stringify(results));
})();
