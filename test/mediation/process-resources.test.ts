// Process resources in the policy, without I/O: commands by basename (`match.command`,
// `destination.command`), stdout/stderr (`match.stdio`), a forked child's parent by role
// (`match.process`), and what an unlabelled one gets.
import { describe, expect, it } from 'vitest';
import { runtimeLabelRule } from '../../src/engine/runtime-labels.js';
import { fixture } from '../policy/helpers.js';

const f = fixture(`
location: eu-west-1
resources:
  - match: { path: "data/**" }
    labels: { confidentiality: secret, tags: [pii] }
  - match: { command: "convert" }
    labels: { confidentiality: secret }
  - match: { stdio: stderr }
    labels: { confidentiality: internal }
  - match: { process: parent }
    labels: { confidentiality: secret, tags: [pii] }
rules:
  - id: no-pii-to-curl
    deny: { data: { tags: [pii] }, destination: { command: "curl*" } }
`);

describe('process resources', () => {
  it('names a child by its executable basename, process://<node>/<command>', () => {
    expect(f.registry.command('/usr/bin/convert').uri).toBe('process://n1/convert');
    expect(f.registry.parse('process://n1/convert')).toBe(f.registry.command('convert'));
    expect(f.registry.parse('process://n1/stdout')).toBe(f.registry.stdio('stdout'));
  });

  it('decides a flow to a command by its labels, a rule on destination.command, and defaults otherwise', () => {
    const secret = f.data('/srv/app/data/p1.json');
    expect(f.decide(secret, f.registry.command('/usr/local/bin/convert')).kind).toBe('allow');
    expect(f.decide(secret, f.registry.command('curl'))).toMatchObject({ kind: 'deny', rule: 'no-pii-to-curl' });
    expect(f.decide(secret, f.registry.command('sh'))).toMatchObject({ kind: 'deny', rule: 'confidentiality' });
    expect(f.decide(f.sets.empty, f.registry.command('sh')).kind).toBe('allow');
  });

  it('stdout unlabelled is the operator console (any data); a labelled stream and a child of provenant are not', () => {
    const secret = f.data('/srv/app/data/p1.json');
    expect(f.decide(secret, f.registry.stdio('stdout')).kind).toBe('allow');
    expect(f.decide(secret, f.registry.stdio('stderr'))).toMatchObject({ kind: 'deny', rule: 'confidentiality' });
    expect(f.decide(secret, f.registry.stdio('stdout', false))).toMatchObject({ kind: 'deny', rule: 'confidentiality' });
  });

  it('names a parent process://<node>/<pid>/parent and labels it by role, whatever the pid; another process stays unlabelled', () => {
    const parent = f.registry.parse('process://n1/999999/parent');
    expect(parent).toBe(f.registry.parent());
    expect(parent.uri).toBe(`process://n1/${process.pid}/parent`);
    const secret = f.data('/srv/app/data/p1.json');
    expect(f.decide(secret, parent).kind).toBe('allow');
    expect(f.decide(secret, f.registry.process(process.ppid))).toMatchObject({ kind: 'deny', rule: 'confidentiality' });
    // provenant.label() on it labels the role, as the config does.
    expect(runtimeLabelRule(parent, { confidentiality: 'secret' }).match).toEqual({ process: 'parent' });
  });

  it('rejects a command glob with a slash at validate time', () => {
    expect(() => fixture('resources:\n  - match: { command: "/usr/bin/convert" }\n    labels: { confidentiality: secret }\n')).toThrow(
      /resources\[0\]\.match\.command "\/usr\/bin\/convert" must be a command name without "\/"/,
    );
  });
});
