'use strict';
// fd-level writes to fds the fs API did not open. argv: root, mode ('secret' reads secret/a.txt
// in the process context first; 'public' does not), port of a listener on 127.0.0.1.
// Writes the data with fs.writeSync/fs.write to fd 1 and 2, to a TCP socket's own fd (below
// Socket#write), and to an inherited pipe (fd 3 of a Node child under provenant, which reads the
// data itself). Prints one JSON line of outcomes.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const [root, mode, port] = process.argv.slice(2);
const read = () => (mode === 'public' ? 'nothing secret\n' : fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8'));
const tried = (write) => {
  try {
    write();
    return 'written';
  } catch (error) {
    return { code: error.code, rule: error.rule };
  }
};

if (mode === 'child') {
  // Inherited fd 3 is a pipe to the parent: the data may only go there when it is not labelled.
  const data = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  const secretToPipe = tried(() => fs.writeSync(3, `pipe: ${data}`));
  const publicToPipe = provenant.run(() => tried(() => fs.writeSync(3, 'pipe: nothing secret\n')));
  provenant.run(() => console.log(JSON.stringify({ secretToPipe, publicToPipe })));
  return;
}

async function main() {
  // Connected and spawned from clean contexts: only the fd writes below carry the data.
  const socket = await provenant.run(
    () =>
      new Promise((resolve, reject) =>
        net
          .connect(Number(port), '127.0.0.1', function () {
            resolve(this);
          })
          .on('error', reject),
      ),
  );
  const fromPipe = [];
  const child = provenant.run(() =>
    spawn(process.execPath, [...process.execArgv, __filename, root, 'child'], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] }),
  );
  child.stdio[3].on('data', (chunk) => fromPipe.push(chunk.toString()));
  let childOutcome = '';
  child.stdout.on('data', (chunk) => (childOutcome += chunk));
  const childDone = new Promise((resolve) => child.on('close', resolve));

  const data = read();
  const result = {};
  result.writeSyncStdout = tried(() => fs.writeSync(1, `writeSync(1): ${data}`));
  result.writeSyncStderr = tried(() => fs.writeSync(2, `writeSync(2): ${data}`));
  result.writeStdout = await new Promise((resolve) =>
    fs.write(1, `write(1): ${data}`, (error) => resolve(error ? { code: error.code, rule: error.rule } : 'written')),
  );
  result.socketFd = tried(() => fs.writeSync(socket._handle.fd, `socket fd: ${data}`));
  result.publicToSocketFd = provenant.run(() => tried(() => fs.writeSync(socket._handle.fd, 'socket fd: nothing secret\n')));
  result.publicToStdout = provenant.run(() => tried(() => fs.writeSync(1, 'writeSync(1): nothing secret\n')));
  await provenant.run(() => new Promise((resolve) => socket.end(resolve)));
  await childDone;
  result.child = JSON.parse(childOutcome.trim().split('\n').pop());
  result.fromPipe = fromPipe.join('');
  provenant.run(() => console.log(JSON.stringify(result)));
}

main();
