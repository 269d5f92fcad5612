'use strict';
// Reads secret/a.txt, then tries to weaken enforcement through the API: label out/public/x.txt
// secret and write there; shut provenant down and write to out/public/y.txt. Prints the outcomes.
const fs = require('node:fs');
const path = require('node:path');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const root = process.argv[2];
const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'));
const outcomeOf = (error) => (error ? { code: error.code, rule: error.rule } : 'done');
const attempt = async (fn) => {
  try {
    await fn();
    return 'done';
  } catch (error) {
    return outcomeOf(error);
  }
};

(async () => {
  const result = {};
  result.label = await attempt(() => provenant.label(path.join(root, 'out', 'public', 'x.txt'), { confidentiality: 'secret' }));
  result.writeLabelled = await attempt(() => fs.writeFileSync(path.join(root, 'out', 'public', 'x.txt'), secret));
  result.shutdown = await attempt(() => provenant.shutdown());
  result.writeAfterShutdown = await attempt(() => fs.writeFileSync(path.join(root, 'out', 'public', 'y.txt'), secret));
  console.log(JSON.stringify(result));
})();
