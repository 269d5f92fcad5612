'use strict';
// An app that tries to switch its monitor off: rewrite, replace, link to, move or remove the
// config file, the journal key file and the state dir (argv[3..5]), then SIGHUP itself so a
// rewritten policy would be reloaded, then tries secret → public. Prints {attempt: outcome}.
const fs = require('node:fs');
const path = require('node:path');

const [root, config, keyFile, stateDir] = process.argv.slice(2);
const out = (name) => path.join(root, 'out', 'public', name);
const PERMISSIVE = 'mode: audit\nrules:\n  - id: anything-goes\n    allow: {}\n';
const result = {};
const attempt = async (name, fn) => {
  try {
    await fn();
    result[name] = 'done';
  } catch (error) {
    result[name] = error.code === 'ERR_PROVENANCE_DENIED' ? error.rule : error.code;
  }
};

(async () => {
  await attempt('writeConfig', () => fs.writeFileSync(config, PERMISSIVE));
  await attempt('appendConfig', () => fs.appendFileSync(config, PERMISSIVE));
  await attempt('promisesWriteConfig', () => fs.promises.writeFile(config, PERMISSIVE));
  await attempt(
    'callbackWriteConfig',
    () => new Promise((resolve, reject) => fs.writeFile(config, PERMISSIVE, (e) => (e ? reject(e) : resolve()))),
  );
  await attempt('openConfigForWrite', () => fs.closeSync(fs.openSync(config, 'w')));
  await attempt('truncateConfig', () => fs.truncateSync(config));
  fs.symlinkSync(config, out('link.yaml'));
  await attempt('writeThroughSymlink', () => fs.writeFileSync(out('link.yaml'), PERMISSIVE));
  // In out/secret: the folder holds secret files, and naming them from a public folder is itself denied.
  const configDir = path.join(root, 'out', 'secret', 'config-dir');
  fs.symlinkSync(path.dirname(config), configDir);
  await attempt('writeThroughSymlinkedFolder', () => fs.writeFileSync(path.join(configDir, path.basename(config)), PERMISSIVE));
  fs.linkSync(config, out('hard.yaml'));
  await attempt('writeThroughHardLink', () => fs.writeFileSync(out('hard.yaml'), PERMISSIVE));
  fs.writeFileSync(out('evil.yaml'), PERMISSIVE);
  await attempt('renameOverConfig', () => fs.renameSync(out('evil.yaml'), config));
  await attempt('copyOverConfig', () => fs.copyFileSync(out('evil.yaml'), config));
  await attempt('renameConfigAway', () => fs.renameSync(config, out('moved.yaml')));
  await attempt('unlinkConfig', () => fs.unlinkSync(config));
  await attempt('writeKey', () => fs.writeFileSync(keyFile, 'not a key'));
  await attempt('writeIntoStateDir', () => fs.writeFileSync(path.join(stateDir, 'journal', 'forged.jsonl'), '{}\n'));
  fs.symlinkSync(path.join(stateDir, 'journal', 'dangling.jsonl'), out('dangling'));
  await attempt('writeThroughDanglingSymlink', () => fs.writeFileSync(out('dangling'), '{}\n'));
  await attempt('removeStateDir', () => fs.rmSync(stateDir, { recursive: true }));
  await attempt('removeParentOfStateDir', () => fs.promises.rm(path.dirname(stateDir), { recursive: true }));
  await attempt('writeOtherYaml', () => fs.writeFileSync(out('other.yaml'), PERMISSIVE));

  process.kill(process.pid, 'SIGHUP');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'));
  await attempt('secretToPublicAfterReload', () => fs.writeFileSync(out('leak.txt'), secret));
  console.log(JSON.stringify(result));
})();
