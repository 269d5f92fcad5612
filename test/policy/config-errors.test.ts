// Every invalid-config case: the message names the file, line and column and what is wrong.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { CONFIG_FILE, configFrom } from './helpers.js';

const CASES: [name: string, yaml: string, place: string, problem: string][] = [
  [
    'YAML syntax error',
    'mode: enforce\nrules: [\n  { id: a\n',
    '4:1',
    'YAML syntax error: flow map in block collection must be sufficiently indented and end with a }',
  ],
  ['tab indentation', 'mode: enforce\nresources:\n\t- x\n', '3:1', 'YAML syntax error: tabs are not allowed as indentation'],
  ['duplicate YAML key', 'mode: enforce\nmode: audit\n', '2:1', 'YAML syntax error: map keys must be unique'],
  ['not a mapping', '- a\n- b\n', '1:1', 'the config must be a mapping (key: value), got a list'],
  ['unknown top-level key', 'mode: enforce\nrulez: []\n', '2:1', 'unknown key "rulez" at the top level (did you mean "rules"?)'],
  [
    'unknown key in a resource',
    'resources:\n  - match: { path: "data/**" }\n    lables: { confidentiality: secret }\n',
    '3:5',
    'unknown key "lables" in resources[0] (did you mean "labels"?)',
  ],
  [
    'unknown key in a condition',
    'rules:\n  - id: a\n    deny: { data: { tag: [pii] } }\n',
    '3:21',
    'unknown key "tag" in rules[0].deny.data (did you mean "tags"?)',
  ],
  [
    'unknown key, nothing close',
    'journal: { colour: blue }\n',
    '1:12',
    'unknown key "colour" in journal (valid keys: enabled, contentHash, pseudonymize, sync, flushIntervalMs, checkpointEvery, checkpointIntervalMs, segmentMaxBytes, repeatWindowMs, witnesses, witnessQuorum, openlineage, retention)',
  ],
  [
    'openlineage without url',
    'journal:\n  openlineage: { namespace: clinic }\n',
    '2:16',
    'journal.openlineage needs "url" (e.g. http://marquez:5000)',
  ],
  [
    'openlineage url not http',
    'journal:\n  openlineage: { url: "kafka://broker:9092" }\n',
    '2:23',
    'journal.openlineage.url "kafka://broker:9092" must be an http:// or https:// URL',
  ],
  [
    'retention bound below two segments',
    'journal:\n  segmentMaxBytes: 1048576\n  retention: { maxBytes: 1048576 }\n',
    '3:26',
    'journal.retention.maxBytes is 1048576 but must be at least twice journal.segmentMaxBytes (2097152): the segments being written are never deleted',
  ],
  [
    'retention age not a number',
    'journal:\n  retention: { maxAgeSeconds: 30d }\n',
    '2:31',
    'journal.retention.maxAgeSeconds must be a whole number, got the string "30d"',
  ],
  [
    'unknown key in retention',
    'journal:\n  retention: { maxSize: 10 }\n',
    '2:16',
    'unknown key "maxSize" in journal.retention (valid keys: maxBytes, maxAgeSeconds)',
  ],
  ['list expected', 'resources: { match: x }\n', '1:12', 'resources must be a list, got a mapping'],
  ['boolean expected', 'inheritProcessContext: "yes"\n', '1:24', 'inheritProcessContext must be true or false, got the string "yes"'],
  [
    'number expected',
    'journal:\n  flushIntervalMs: fast\n',
    '2:20',
    'journal.flushIntervalMs must be a whole number, got the string "fast"',
  ],
  [
    'number out of range',
    'resources:\n  - { match: { port: 70000 }, labels: {} }\n',
    '2:22',
    'resources[0].match.port must be between 0 and 65535, got 70000',
  ],
  ['string expected', 'service: [a]\n', '1:10', 'service must be a string, got a list'],
  [
    'unknown level in defaults',
    'defaults: { confidentiality: topsecret }\n',
    '1:30',
    'unknown confidentiality level "topsecret" in defaults.confidentiality (levels, lowest first: public, internal, confidential, secret)',
  ],
  [
    'unknown level in labels',
    'resources:\n  - match: { path: "a/**" }\n    labels: { integrity: medium }\n',
    '3:26',
    'unknown integrity level "medium" in resources[0].labels.integrity (levels, lowest first: untrusted, low, high)',
  ],
  [
    'unknown level in a condition',
    'rules:\n  - id: a\n    deny:\n      data: { confidentiality: { atLeast: secrte } }\n',
    '4:43',
    'unknown confidentiality level "secrte" in rules[0].deny.data.confidentiality.atLeast (levels, lowest first: public, internal, confidential, secret)',
  ],
  [
    'unknown level in destination labels',
    'rules:\n  - id: a\n    deny: { destination: { labels: { integrity: { atMost: mid } } } }\n',
    '3:59',
    'unknown integrity level "mid" in rules[0].deny.destination.labels.integrity.atMost (levels, lowest first: untrusted, low, high)',
  ],
  [
    'default level missing from custom levels',
    'levels: { confidentiality: [green, red] }\ndefaults: { confidentiality: public }\n',
    '2:30',
    'unknown confidentiality level "public" in defaults.confidentiality (levels, lowest first: green, red)',
  ],
  ['level listed twice', 'levels: { integrity: [low, high, low] }\n', '1:34', 'levels.integrity[2]: level "low" is listed twice'],
  [
    'unclosed bracket in a path glob',
    'resources:\n  - { match: { path: "data/[ab/**" }, labels: {} }\n',
    '2:22',
    'resources[0].match.path "data/[ab/**" has an unclosed "["',
  ],
  [
    'unclosed brace in a sources glob',
    'rules:\n  - id: x\n    deny: { data: { sources: ["data/{a,b/**"] } }\n',
    '3:31',
    'rules[0].deny.data.sources[0] "data/{a,b/**" has an unclosed "{"',
  ],
  [
    'unbalanced parenthesis in a host glob',
    'trust: { peers: ["*.internal)"] }\n',
    '1:18',
    'trust.peers[0] "*.internal)" has an unbalanced ")"',
  ],
  [
    'duplicate rule id',
    'rules:\n  - { id: a, deny: {} }\n  - { id: b, deny: {} }\n  - { id: a, allow: {} }\n',
    '4:5',
    'duplicate rule id "a" in rules[2] (first used at line 2)',
  ],
  [
    'rule with neither deny nor allow',
    'rules:\n  - id: a\n    message: hello\n',
    '2:5',
    'rules[0] needs "deny:" or "allow:" with its conditions',
  ],
  [
    'rule with both deny and allow',
    'rules:\n  - id: a\n    deny: {}\n    allow: {}\n',
    '4:12',
    'rules[0] has both "deny" and "allow"; split it into two rules',
  ],
  [
    'reserved rule id',
    'rules:\n  - { id: revoked, deny: {} }\n',
    '2:11',
    'rule id "revoked" is reserved for a built-in rule; choose another id',
  ],
  ['invalid mode', 'mode: enforcing\n', '1:7', 'mode must be one of enforce, audit, off, got "enforcing" (did you mean "enforce"?)'],
  [
    'condition that can never match',
    'rules:\n  - id: a\n    deny: { data: { confidentiality: { atLeast: secret, atMost: internal } } }\n',
    '3:38',
    'rules[0].deny.data.confidentiality: atLeast secret is above atMost internal, so it can never match',
  ],
  [
    'unknown destination kind',
    'rules:\n  - id: a\n    deny: { destination: { kind: [file, ftp] } }\n',
    '3:41',
    'rules[0].deny.destination.kind[1] must be one of file, tcp, udp, unix, http, https, service, process, got "ftp" (did you mean "tcp"?)',
  ],
  [
    'url with a path',
    'resources:\n  - { match: { url: "https://api.example.com/v1" }, labels: {} }\n',
    '2:21',
    'resources[0].match.url "https://api.example.com/v1" must be an origin (scheme://host[:port]); destinations are matched by origin, paths are not part of their URI',
  ],
  [
    'empty match',
    'resources:\n  - { match: {}, labels: {} }\n',
    '2:14',
    'resources[0].match needs at least one of path, host, port, url, service, command, stdio, process',
  ],
  [
    'process matched by an unknown role',
    'resources:\n  - { match: { process: child }, labels: {} }\n',
    '2:25',
    'resources[0].match.process must be one of parent, got "child"',
  ],
  ['resource without labels', 'resources:\n  - match: { path: x }\n', '2:5', 'resources[0] needs "labels"'],
  ['bad revoked URI', 'revoked: ["http://[bad"]\n', '1:11', 'revoked[0] "http://[bad" is neither a path nor a valid URI'],
  ['node id with a slash', 'node: "a/b"\n', '1:7', 'node "a/b" must not contain "/" or spaces (it is part of file:// URIs)'],
];

describe('invalid configs', () => {
  for (const [name, yaml, place, problem] of CASES) {
    it(name, () => {
      let error: unknown;
      try {
        configFrom(yaml);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const configError = error as ConfigError;
      expect(configError.message).toBe(`provenant: invalid config ${CONFIG_FILE}:${place}: ${problem}`);
      expect(`${configError.line}:${configError.column}`).toBe(place);
      expect(configError.file).toBe(CONFIG_FILE);
      expect(configError.problem).toBe(problem);
    });
  }

  it('an invalid PROVENANT_MODE is an error, not ignored', () => {
    expect(() => configFrom('mode: enforce', { PROVENANT_MODE: 'loud' })).toThrow(
      'provenant: invalid config: PROVENANT_MODE must be one of enforce, audit, off, got "loud"',
    );
  });

  it('a named config file that does not exist is an error, never a fallback to the defaults', () => {
    expect(() => loadConfig({ file: '/nonexistent/provenant.yaml', env: {} })).toThrow(
      'provenant: invalid config /nonexistent/provenant.yaml: file not found',
    );
    expect(() => loadConfig({ env: { PROVENANT_CONFIG: '/nonexistent/p.yaml' } })).toThrow(
      'provenant: invalid config /nonexistent/p.yaml: file not found',
    );
  });
});
