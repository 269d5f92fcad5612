'use strict';
// A forked child under provenant: sends a public message to its parent through process.send and
// through the channel's handle, then reads secret/a.txt (argv[2] is the workspace) and tries to
// send it through process.send, the handle and process._send, and dressed as one of Node's own
// control messages ({ cmd: 'NODE_…' }, which only Node's code may send undecided); argv[3] is the
// channel's serialization, which raw handle writes follow. Writes its outcomes to
// out/secret/child.json and disconnects.
const fs = require('node:fs');
const path = require('node:path');
const { rawSend, viaSend } = require('./ipc-handle.cjs');

const root = process.argv[2];
const serialization = process.argv[3];
(async () => {
  const results = {};
  results.publicSend = await viaSend(process, 'send', 'public send');
  results.publicRaw = rawSend(process, 'public raw', serialization);
  const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  results.secretSend = await viaSend(process, 'send', secret);
  results.secretRaw = rawSend(process, secret, serialization);
  results.secretUnderscoreSend = await viaSend(process, '_send', secret);
  results.secretControlSend = await viaSend(process, 'send', { cmd: 'NODE_LEAK', secret });
  results.secretControlRaw = rawSend(process, { cmd: 'NODE_LEAK', secret }, serialization);
  fs.writeFileSync(path.join(root, 'out', 'secret', 'child.json'), JSON.stringify(results));
  process.disconnect();
})();
