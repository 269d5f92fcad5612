/**
 * Turns a parsed YAML document into a ProvenantConfig, checking every key, type, level name,
 * glob and rule id. The first problem throws a ConfigError at its line and column; nothing is
 * ever silently dropped (a dropped deny rule would be an "allow everything" by accident).
 * Rules, monitors and OpenLineage are read by their own modules; this one stays over 250 lines
 * because every other section checks level names against the `levels` read first.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Node } from 'yaml';
import { defaultLevels } from './defaults.js';
import {
  MODES,
  PROCESS_ROLES,
  STDIO_STREAMS,
  type JournalConfig,
  type WitnessConfig,
  type LabelSpec,
  type ProvenantConfig,
  type ResourceLabelRule,
  type ResourceMatch,
} from './types.js';
import { MonitorValidator } from './validate-monitors.js';
import { readRetention } from './validate-retention.js';
import { readOpenLineage } from './validate-openlineage.js';
import { RuleValidator, type LatticeName, type ValueReaders } from './validate-rules.js';
import type { Located, YamlReader } from './yaml-reader.js';

const TOP_KEYS = [
  'service',
  'node',
  'location',
  'mode',
  'granularity',
  'inheritProcessContext',
  'levels',
  'defaults',
  'resources',
  'rules',
  'revoked',
  'trust',
  'journal',
  'monitors',
  'attest',
  'api',
] as const;
const GRANULARITIES = ['request', 'process'] as const;
const CONTENT_HASHES = ['sha256', 'sha3-256', 'sha512', 'blake2b512', 'none'] as const;
export { BUILT_IN_RULE_IDS } from './validate-rules.js';

export function validateConfig(reader: YamlReader, root: Node | null, base: ProvenantConfig): ProvenantConfig {
  return new ConfigValidator(reader, base).read(root);
}

class ConfigValidator implements ValueReaders {
  private levels: { confidentiality: string[]; integrity: string[] };

  constructor(
    private readonly r: YamlReader,
    private readonly config: ProvenantConfig,
  ) {
    this.levels = config.levels;
  }

  read(root: Node | null): ProvenantConfig {
    if (root === null) return this.config;
    const top = this.r.map({ node: root, where: '' }, TOP_KEYS);
    const c = this.config;
    const get = (key: (typeof TOP_KEYS)[number]): Located | undefined => top.get(key);
    // Levels first: every other section names levels.
    const levels = get('levels');
    if (levels) {
      this.levels = this.readLevels(levels);
      c.levels = this.levels;
      c.defaults = defaultLevels(this.levels);
    }
    const service = get('service');
    if (service) c.service = this.r.string(service);
    const node = get('node');
    if (node) c.node = this.nodeId(node);
    const location = get('location');
    if (location) c.location = this.r.string(location);
    const mode = get('mode');
    if (mode) c.mode = this.r.oneOf(mode, MODES);
    const granularity = get('granularity');
    if (granularity) c.granularity = this.r.oneOf(granularity, GRANULARITIES);
    const inherit = get('inheritProcessContext');
    if (inherit) c.inheritProcessContext = this.r.boolean(inherit);
    const defaults = get('defaults');
    if (defaults) {
      const d = this.r.map(defaults, ['confidentiality', 'integrity']);
      const conf = d.get('confidentiality');
      if (conf) c.defaults.confidentiality = this.level('confidentiality', conf);
      const integ = d.get('integrity');
      if (integ) c.defaults.integrity = this.level('integrity', integ);
    }
    const resources = get('resources');
    if (resources) c.resources = this.r.list(resources).map((entry) => this.resourceEntry(entry));
    const rules = get('rules');
    if (rules) c.rules = new RuleValidator(this.r, this.levels, this, c.node, c.baseDir).readRules(rules);
    const revoked = get('revoked');
    if (revoked) c.revoked = this.r.list(revoked, true).map((entry) => this.revokedEntry(entry));
    const trust = get('trust');
    if (trust) {
      const t = this.r.map(trust, ['peers', 'maxAgeSeconds', 'identities', 'audience']);
      const audience = t.get('audience');
      if (audience) c.trust.audience = this.r.stringList(audience, true).map((name) => name.toLowerCase());
      const identities = t.get('identities');
      if (identities) c.trust.identities = new MonitorValidator(this.r, c.baseDir).readIdentities(identities);
      const peers = t.get('peers');
      if (peers) c.trust.peers = this.r.list(peers, true).map((peer) => this.r.hostGlob(peer));
      const maxAge = t.get('maxAgeSeconds');
      if (maxAge) c.trust.maxAgeSeconds = this.r.number(maxAge, 0);
    }
    const journal = get('journal');
    if (journal) c.journal = this.readJournal(journal, c.journal);
    const monitors = get('monitors');
    if (monitors) c.monitors = new MonitorValidator(this.r, c.baseDir).readMonitors(monitors);
    const attest = get('attest');
    if (attest) c.attest = new MonitorValidator(this.r, c.baseDir).readAttest(attest);
    const api = get('api');
    if (api) {
      const a = this.r.map(api, ['label', 'shutdown']);
      const label = a.get('label');
      if (label) c.api.label = this.r.boolean(label);
      const shutdown = a.get('shutdown');
      if (shutdown) c.api.shutdown = this.r.boolean(shutdown);
    }
    return c;
  }

  private readLevels(value: Located): { confidentiality: string[]; integrity: string[] } {
    const m = this.r.map(value, ['confidentiality', 'integrity']);
    const read = (name: LatticeName): string[] => {
      const list = m.get(name);
      if (!list) return [...this.levels[name]];
      const items = this.r.list(list);
      if (items.length === 0) this.r.fail(list.node, `${list.where} must list at least one level, lowest first`);
      const names: string[] = [];
      for (const item of items) {
        const level = this.r.string(item);
        if (names.includes(level)) this.r.fail(item.node, `${item.where}: level "${level}" is listed twice`);
        names.push(level);
      }
      return names;
    };
    return { confidentiality: read('confidentiality'), integrity: read('integrity') };
  }

  level(lattice: LatticeName, value: Located): string {
    const name = this.r.string(value);
    const known = this.levels[lattice];
    if (!known.includes(name)) {
      this.r.fail(value.node, `unknown ${lattice} level "${name}" in ${value.where} (levels, lowest first: ${known.join(', ')})`);
    }
    return name;
  }

  private nodeId(value: Located): string {
    const id = this.r.string(value);
    if (/[/\s]/.test(id)) this.r.fail(value.node, `${value.where} "${id}" must not contain "/" or spaces (it is part of file:// URIs)`);
    return id;
  }

  private resourceEntry(value: Located): ResourceLabelRule {
    const m = this.r.map(value, ['match', 'labels']);
    const match = m.get('match');
    if (!match) this.r.fail(value.node, `${value.where} needs a "match"`);
    const labels = m.get('labels');
    if (!labels) this.r.fail(value.node, `${value.where} needs "labels"`);
    return { match: this.resourceMatch(match), labels: this.labelSpec(labels), line: this.r.lineOf(value.node) };
  }

  private resourceMatch(value: Located): ResourceMatch {
    const m = this.r.map(value, ['path', 'host', 'port', 'url', 'service', 'command', 'stdio', 'process']);
    if (m.size === 0)
      this.r.fail(value.node, `${value.where} needs at least one of path, host, port, url, service, command, stdio, process`);
    const match: ResourceMatch = {};
    const path = m.get('path');
    if (path) match.path = this.pathGlob(path);
    const host = m.get('host');
    if (host) match.host = this.r.hostGlob(host);
    const port = m.get('port');
    if (port) match.port = this.r.integer(port, 0, 65_535);
    const url = m.get('url');
    if (url) match.url = this.urlPrefix(url);
    const service = m.get('service');
    if (service) match.service = this.r.glob(service);
    const command = m.get('command');
    if (command) match.command = this.commandGlob(command);
    const stdio = m.get('stdio');
    if (stdio) match.stdio = this.r.oneOf(stdio, STDIO_STREAMS);
    const role = m.get('process');
    if (role) match.process = this.r.oneOf(role, PROCESS_ROLES);
    return match;
  }

  private labelSpec(value: Located): LabelSpec {
    const m = this.r.map(value, ['confidentiality', 'integrity', 'tags', 'location']);
    const spec: LabelSpec = {};
    const conf = m.get('confidentiality');
    if (conf) spec.confidentiality = this.level('confidentiality', conf);
    const integ = m.get('integrity');
    if (integ) spec.integrity = this.level('integrity', integ);
    const tags = m.get('tags');
    if (tags) spec.tags = this.r.stringList(tags, true);
    const location = m.get('location');
    if (location) spec.location = this.r.string(location);
    return spec;
  }

  /** A command is matched by its executable's basename, so a glob with "/" could never match. */
  commandGlob(value: Located): string {
    const glob = this.r.glob(value);
    if (glob.includes('/'))
      this.r.fail(value.node, `${value.where} "${glob}" must be a command name without "/" (it matches the executable's basename)`);
    return glob;
  }

  /** Path globs are relative to the config file's folder; stored absolute. */
  pathGlob(value: Located): string {
    const glob = this.r.glob(value);
    return isAbsolute(glob) ? glob : resolve(this.config.baseDir, glob);
  }

  /** A url matcher names an origin: resource URIs of HTTP destinations hold no path. */
  private urlPrefix(value: Located): string {
    const text = this.r.string(value);
    const url = this.r.httpUrl(value);
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      this.r.fail(
        value.node,
        `${value.where} "${text}" must be an origin (scheme://host[:port]); destinations are matched by origin, paths are not part of their URI`,
      );
    }
    return text.replace(/\/+$/, '');
  }

  private revokedEntry(value: Located): string {
    const text = this.r.string(value);
    if (!text.includes('://')) return isAbsolute(text) ? resolve(text) : resolve(this.config.baseDir, text);
    try {
      new URL(text);
    } catch {
      this.r.fail(value.node, `${value.where} "${text}" is neither a path nor a valid URI`);
    }
    return text;
  }

  private readJournal(value: Located, base: JournalConfig): JournalConfig {
    const m = this.r.map(value, [
      'enabled',
      'contentHash',
      'pseudonymize',
      'sync',
      'flushIntervalMs',
      'checkpointEvery',
      'checkpointIntervalMs',
      'segmentMaxBytes',
      'repeatWindowMs',
      'witnesses',
      'witnessQuorum',
      'openlineage',
      'retention',
    ]);
    const journal = { ...base };
    const enabled = m.get('enabled');
    if (enabled) journal.enabled = this.r.boolean(enabled);
    const contentHash = m.get('contentHash');
    if (contentHash) journal.contentHash = this.r.oneOf(contentHash, CONTENT_HASHES);
    const pseudonymize = m.get('pseudonymize');
    if (pseudonymize) journal.pseudonymize = this.r.boolean(pseudonymize);
    const sync = m.get('sync');
    if (sync) journal.sync = this.r.oneOf(sync, ['always', 'batch'] as const);
    const flush = m.get('flushIntervalMs');
    if (flush) journal.flushIntervalMs = this.r.integer(flush, 0);
    const every = m.get('checkpointEvery');
    if (every) journal.checkpointEvery = this.r.integer(every, 1);
    const interval = m.get('checkpointIntervalMs');
    if (interval) journal.checkpointIntervalMs = this.r.integer(interval, 0);
    const segment = m.get('segmentMaxBytes');
    if (segment) journal.segmentMaxBytes = this.r.integer(segment, 4096);
    const repeatWindow = m.get('repeatWindowMs');
    if (repeatWindow) journal.repeatWindowMs = this.r.integer(repeatWindow, 0);
    const witnesses = m.get('witnesses');
    if (witnesses) journal.witnesses = this.r.list(witnesses).map((entry) => this.witness(entry));
    const quorum = m.get('witnessQuorum');
    if (quorum) journal.witnessQuorum = this.r.integer(quorum, 1);
    if (quorum && journal.witnessQuorum > journal.witnesses.length)
      this.r.fail(quorum.node, `${quorum.where} is ${journal.witnessQuorum} but only ${journal.witnesses.length} witness(es) are listed`);
    const openlineage = m.get('openlineage');
    if (openlineage) journal.openlineage = readOpenLineage(this.r, openlineage);
    const retention = m.get('retention');
    if (retention) journal.retention = readRetention(this.r, retention, journal.segmentMaxBytes);
    return journal;
  }

  private witness(value: Located): WitnessConfig {
    const m = this.r.map(value, ['url', 'vkey']);
    const url = m.get('url');
    const vkey = m.get('vkey');
    if (!url || !vkey) this.r.fail(value.node, `${value.where} needs "url" and "vkey"`);
    const text = this.r.string(url).replace(/\/+$/, '');
    let protocol = '';
    try {
      protocol = new URL(text).protocol;
    } catch {
      // Reported below with the value.
    }
    if (protocol !== 'http:' && protocol !== 'https:') this.r.fail(url.node, `${url.where} "${text}" is not an http(s) URL`);
    const key = this.r.string(vkey);
    // The full check (key ID, type 0x04) is the journal's; here only the shape, so config stays a leaf.
    if (!/^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/.test(key))
      this.r.fail(vkey.node, `${vkey.where} is not a verifier key (name+keyid+base64), as \`provenant witness\` prints it`);
    return { url: text, vkey: key };
  }
}
