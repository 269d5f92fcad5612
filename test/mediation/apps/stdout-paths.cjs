'use strict';
// Writes to process.stdout by one way around its `write` (argv[3]: the stream prototypes' `write`
// called on it, its `_write`, or its handle's own `writeUtf8String`): a public line from a clean
// context, then, after reading secret/a.txt, the secret the same way. A denied write destroys the
// stream, so one way per run. Writes {public, secret} outcomes to out/secret/stdout-paths.json.
const fs = require('node:fs');
const path = require('node:path');
const stream = require('node:stream');
const { WriteWrap } = process.binding('stream_wrap');

const [root, way] = process.argv.slice(2);
const outcomeOf = (error) => (error ? (error.code === 'ERR_PROVENANCE_DENIED' ? `denied:${error.rule}` : `failed:${error.code}`) : 'sent');
const ways = {
  'Writable.prototype.write.call': (text) =>
    new Promise((resolve) => stream.Writable.prototype.write.call(process.stdout, text, (error) => resolve(outcomeOf(error)))),
  _write: (text) => new Promise((resolve) => process.stdout._write(text, 'utf8', (error) => resolve(outcomeOf(error)))),
  'handle.writeUtf8String': async (text) => {
    const handle = process.stdout._handle;
    const req = new WriteWrap();
    req.handle = handle;
    req.oncomplete = () => undefined;
    return handle.writeUtf8String(req, text) === 0 ? 'sent' : 'refused';
  },
};

// A denial around `write` destroys the stream with the error, as for any socket.
process.stdout.on('error', () => {});

(async () => {
  const results = { public: await ways[way](`public ${way}\n`) };
  const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  results.secret = await ways[way](secret);
  fs.writeFileSync(path.join(root, 'out', 'secret', 'stdout-paths.json'), JSON.stringify(results));
})();
