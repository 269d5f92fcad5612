// ESM named imports of fs and fs/promises see the patched functions (run with --import).
import fs, { readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const root = process.argv[2];
const at = (relative) => path.join(root, relative);
const outcome = async (fn) => {
  try {
    await fn();
    return { ok: true };
  } catch (error) {
    return { code: error.code };
  }
};

const text = readFileSync(at('secret/a.txt'), 'utf8');
const results = {
  writeFileSync: await outcome(() => writeFileSync(at('out/secret/esm-sync.txt'), text)),
  writeFileSyncDenied: await outcome(() => writeFileSync(at('out/public/esm-sync.txt'), text)),
  promisesWriteFile: await outcome(async () => writeFile(at('out/secret/esm-promises.txt'), await readFile(at('secret/a.txt')))),
  promisesWriteFileDenied: await outcome(() => writeFile(at('out/public/esm-promises.txt'), text)),
  defaultImportDenied: await outcome(() => fs.appendFileSync(at('out/public/esm-default.txt'), text)),
  streamDenied: await new Promise((resolve) =>
    createWriteStream(at('out/public/esm-stream.txt'))
      .on('error', (error) => resolve({ code: error.code }))
      .end(text),
  ),
};
console.log(JSON.stringify(results));
