'use strict';
// Tries, as an attacker would, to get beneath provenant from inside the process (argv[2] is the
// workspace, argv[3] the attempt), and prints one JSON line of what each try reached.
// session: a socket to a listener in this process is connected while clean, secret/a.txt is read,
//   then an inspector session looks up the closures ([[Scopes]]) of the socket handle's locked
//   writeUtf8String for the original and writes the secret with it; Node's raw inspector
//   connection (process.binding('inspector').Connection) and inspector.open() are tried; a CPU
//   profile is taken through a session (the allowed twin). The listener reports what it received
//   once the client has ended its side.
// signal: SIGUSR1 (what `kill -USR1` and process._debugProcess send) would start the inspector.
// natives: v8.setFlagsFromString('--allow-natives-syntax'), then compiles %-syntax.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const inspector = require('node:inspector');

const root = process.argv[2];
const attempt = process.argv[3];
const outcomeOf = (error) => (error.code === 'ERR_PROVENANCE_DENIED' ? `denied:${error.rule}` : `failed:${error.message}`);

/** Session.post answers a session in the same thread synchronously, a refusal too. */
function post(session, method, params) {
  let reply;
  session.post(method, params, (error, result) => (reply = error ?? result));
  if (reply === undefined) throw new Error(`no synchronous reply to ${method}`);
  if (reply instanceof Error) throw reply;
  return reply;
}

/** Every function in the closures of `objectId` and theirs (two levels), into globalThis.__reached. */
function closureFunctions(session, objectId, depth = 0) {
  const { internalProperties = [] } = post(session, 'Runtime.getProperties', { objectId, ownProperties: false });
  const scopes = internalProperties.find((p) => p.name === '[[Scopes]]');
  if (scopes === undefined) return;
  for (const scope of post(session, 'Runtime.getProperties', { objectId: scopes.value.objectId, ownProperties: true }).result) {
    if (scope.value?.objectId === undefined) continue;
    for (const variable of post(session, 'Runtime.getProperties', { objectId: scope.value.objectId, ownProperties: true }).result) {
      if (variable.value?.type !== 'function') continue;
      const added = post(session, 'Runtime.callFunctionOn', {
        objectId: variable.value.objectId,
        functionDeclaration: 'function () { const had = globalThis.__reached.has(this); globalThis.__reached.add(this); return !had; }',
        returnByValue: true,
      }).result.value;
      if (added && depth < 2) closureFunctions(session, variable.value.objectId, depth + 1);
    }
  }
}

function throughScopes(handle, secret) {
  const session = new inspector.Session();
  session.connect();
  try {
    globalThis.__reached = new Set();
    globalThis.__target = handle.writeUtf8String;
    const target = post(session, 'Runtime.evaluate', { expression: '__target' }).result.objectId;
    closureFunctions(session, target);
    const { WriteWrap } = process.binding('stream_wrap');
    for (const fn of globalThis.__reached) {
      if (fn.name !== 'writeUtf8String' || fn === globalThis.__target) continue;
      const req = new WriteWrap();
      req.handle = handle;
      req.oncomplete = () => undefined;
      if (fn.call(handle, req, secret, null) === 0) return 'wrote with the original';
    }
    return 'no original found';
  } catch (error) {
    return outcomeOf(error);
  } finally {
    session.disconnect();
  }
}

function rawConnection() {
  const { Connection } = process.binding('inspector');
  if (Connection === undefined) return 'absent';
  let reply;
  const connection = new Connection((message) => (reply = JSON.parse(message)));
  connection.dispatch(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: '6 * 7' } }));
  connection.disconnect();
  return reply?.result?.result?.value === 42 ? 'evaluated' : 'no reply';
}

function openServer() {
  try {
    inspector.open(0, '127.0.0.1');
    const opened = inspector.url() !== undefined;
    inspector.close();
    return opened ? 'opened' : 'not opened';
  } catch (error) {
    return outcomeOf(error);
  }
}

function cpuProfile() {
  const session = new inspector.Session();
  session.connect();
  try {
    post(session, 'Profiler.enable', {});
    post(session, 'Profiler.start', {});
    const { profile } = post(session, 'Profiler.stop', {});
    return profile.nodes.length > 0 ? 'profiled' : 'empty';
  } catch (error) {
    return outcomeOf(error);
  } finally {
    session.disconnect();
  }
}

if (attempt === 'session') {
  const server = net.createServer((peer) => {
    let received = '';
    peer.on('data', (data) => (received += data));
    peer.on('end', () => {
      console.log(JSON.stringify({ ...results, received }));
      server.close();
    });
  });
  const results = {};
  server.listen(0, '127.0.0.1', () => {
    const socket = net.connect(server.address().port, '127.0.0.1', () => {
      const handle = socket._handle;
      const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
      results.scopes = throughScopes(handle, secret);
      results.binding = rawConnection();
      results.open = openServer();
      results.profile = cpuProfile();
      // A half-close carries no data: the listener's 'end' says everything written before it has arrived.
      socket.end();
    });
  });
} else if (attempt === 'signal') {
  // Provenant's listener (enforce mode) is the only one; the app adds none, which would itself
  // keep Node from starting the inspector. SIGUSR2 follows as a marker: signals arrive in order.
  const listeners = process.listenerCount('SIGUSR1');
  process.on('SIGUSR2', function poll() {
    if (listeners === 0 && inspector.url() === undefined) return setImmediate(poll);
    const opened = inspector.url() !== undefined;
    inspector.close();
    console.log(JSON.stringify({ listeners, opened }));
    process.exit(0);
  });
  process.kill(process.pid, 'SIGUSR1');
  process.kill(process.pid, 'SIGUSR2');
} else if (attempt === 'natives') {
  let set;
  try {
    require('node:v8').setFlagsFromString('--allow-natives-syntax');
    set = 'set';
  } catch (error) {
    set = outcomeOf(error);
  }
  let compiles = true;
  try {
    new Function('%IsBeingInterpreted()');
  } catch {
    compiles = false;
  }
  console.log(JSON.stringify({ set, compiles }));
}
