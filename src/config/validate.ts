/**
 * Turns a parsed YAML document into a ProvenantConfig, checking every key, type, level name,
 * glob and rule id. The first problem throws a ConfigError at its line and column; nothing is
 * ever silently dropped (a dropped deny rule would be an "allow everything" by accident).
 */
import { isAbsolute, resolve } from 'node:path';
import type { Node } from 'yaml';
import { fileUri, type ResourceKind } from '../provenance/resource.js';
import { defaultLevels } from './defaults.js';
import { globProblem } from './glob.js';
import {
  MODES,
  type DataCondition,
  type DestinationCondition,
  type JournalConfig,
  type WitnessConfig,
  type LabelSpec,
  type LevelCondition,
  type PolicyRuleSpec,
  type ProvenantConfig,
  type ResourceLabelRule,
  type ResourceMatch,
  type SetCondition,
  type TagCondition,
} from './types.js';
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
] as const;
const GRANULARITIES = ['request', 'process'] as const;
const RESOURCE_KINDS: readonly ResourceKind[] = ['file', 'tcp', 'http', 'https', 'service', 'process'];
const CONTENT_HASHES = ['sha256', 'sha3-256', 'sha512', 'blake2b512', 'none'] as const;
/** Rule ids the engine itself reports; a user rule may not take them or denials become ambiguous. */
export const BUILT_IN_RULE_IDS = ['confidentiality', 'integrity', 'revoked', 'policy-fault'] as const;

type LatticeName = 'confidentiality' | 'integrity';

export function validateConfig(reader: YamlReader, root: Node | null, base: ProvenantConfig): ProvenantConfig {
  return new ConfigValidator(reader, base).read(root);
}

class ConfigValidator {
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
    if (rules) c.rules = this.readRules(rules);
    const revoked = get('revoked');
    if (revoked) c.revoked = this.r.list(revoked, true).map((entry) => this.revokedEntry(entry));
    const trust = get('trust');
    if (trust) {
      const t = this.r.map(trust, ['peers', 'maxAgeSeconds']);
      const peers = t.get('peers');
      if (peers) c.trust.peers = this.r.globList(peers, true);
      const maxAge = t.get('maxAgeSeconds');
      if (maxAge) c.trust.maxAgeSeconds = this.r.number(maxAge, 0);
    }
    const journal = get('journal');
    if (journal) c.journal = this.readJournal(journal, c.journal);
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

  private level(lattice: LatticeName, value: Located): string {
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
    const m = this.r.map(value, ['path', 'host', 'port', 'url', 'service']);
    if (m.size === 0) this.r.fail(value.node, `${value.where} needs at least one of path, host, port, url, service`);
    const match: ResourceMatch = {};
    const path = m.get('path');
    if (path) match.path = this.pathGlob(path);
    const host = m.get('host');
    if (host) match.host = this.r.glob(host);
    const port = m.get('port');
    if (port) match.port = this.r.integer(port, 0, 65_535);
    const url = m.get('url');
    if (url) match.url = this.urlPrefix(url);
    const service = m.get('service');
    if (service) match.service = this.r.glob(service);
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

  private readRules(value: Located): PolicyRuleSpec[] {
    const seen = new Map<string, number>();
    return this.r.list(value).map((entry, index) => {
      const rule = this.rule(entry, index);
      const first = seen.get(rule.id);
      if (first !== undefined) this.r.fail(entry.node, `duplicate rule id "${rule.id}" in ${entry.where} (first used at line ${first})`);
      seen.set(rule.id, rule.line ?? 0);
      return rule;
    });
  }

  private rule(value: Located, index: number): PolicyRuleSpec {
    const m = this.r.map(value, ['id', 'deny', 'allow', 'message']);
    const deny = m.get('deny');
    const allow = m.get('allow');
    if (deny && allow) this.r.fail(allow.node, `${value.where} has both "deny" and "allow"; split it into two rules`);
    const body = deny ?? allow;
    if (!body) this.r.fail(value.node, `${value.where} needs "deny:" or "allow:" with its conditions`);
    const idValue = m.get('id');
    const id = idValue ? this.r.string(idValue) : `rule-${index + 1}`;
    if (idValue && (BUILT_IN_RULE_IDS as readonly string[]).includes(id)) {
      this.r.fail(idValue.node, `rule id "${id}" is reserved for a built-in rule; choose another id`);
    }
    const rule: PolicyRuleSpec = { id, effect: deny ? 'deny' : 'allow', line: this.r.lineOf(value.node) };
    const conditions = this.r.map(body, ['data', 'destination']);
    const data = conditions.get('data');
    if (data) rule.data = this.dataCondition(data);
    const destination = conditions.get('destination');
    if (destination) rule.destination = this.destinationCondition(destination);
    const message = m.get('message');
    if (message) rule.message = this.r.string(message);
    return rule;
  }

  private dataCondition(value: Located): DataCondition {
    const m = this.r.map(value, ['confidentiality', 'integrity', 'tags', 'sources', 'locations']);
    const condition: DataCondition = {};
    const conf = m.get('confidentiality');
    if (conf) condition.confidentiality = this.levelCondition('confidentiality', conf);
    const integ = m.get('integrity');
    if (integ) condition.integrity = this.levelCondition('integrity', integ);
    const tags = m.get('tags');
    if (tags) condition.tags = this.tagCondition(tags);
    const sources = m.get('sources');
    if (sources) condition.sources = this.r.list(sources, true).map((item) => this.sourceGlob(item));
    const locations = m.get('locations');
    if (locations) condition.locations = this.setCondition(locations);
    return condition;
  }

  private destinationCondition(value: Located): DestinationCondition {
    const m = this.r.map(value, ['kind', 'path', 'host', 'port', 'service', 'location', 'labels']);
    const condition: DestinationCondition = {};
    const kind = m.get('kind');
    if (kind) condition.kind = this.r.list(kind, true).map((item) => this.r.oneOf(item, RESOURCE_KINDS));
    const path = m.get('path');
    if (path) condition.path = this.pathGlob(path);
    const host = m.get('host');
    if (host) condition.host = this.r.glob(host);
    const port = m.get('port');
    if (port) condition.port = this.r.integer(port, 0, 65_535);
    const service = m.get('service');
    if (service) condition.service = this.r.glob(service);
    const location = m.get('location');
    if (location) condition.location = this.setCondition(location);
    const labels = m.get('labels');
    if (labels) {
      const l = this.r.map(labels, ['confidentiality', 'integrity', 'tags']);
      const out: NonNullable<DestinationCondition['labels']> = {};
      const conf = l.get('confidentiality');
      if (conf) out.confidentiality = this.levelCondition('confidentiality', conf);
      const integ = l.get('integrity');
      if (integ) out.integrity = this.levelCondition('integrity', integ);
      const tags = l.get('tags');
      if (tags) out.tags = this.tagCondition(tags);
      condition.labels = out;
    }
    return condition;
  }

  private levelCondition(lattice: LatticeName, value: Located): LevelCondition {
    const m = this.r.map(value, ['atLeast', 'atMost']);
    if (m.size === 0) this.r.fail(value.node, `${value.where} needs atLeast and/or atMost`);
    const condition: LevelCondition = {};
    const atLeast = m.get('atLeast');
    if (atLeast) condition.atLeast = this.level(lattice, atLeast);
    const atMost = m.get('atMost');
    if (atMost) condition.atMost = this.level(lattice, atMost);
    if (condition.atLeast !== undefined && condition.atMost !== undefined) {
      const order = this.levels[lattice];
      if (order.indexOf(condition.atLeast) > order.indexOf(condition.atMost)) {
        this.r.fail(value.node, `${value.where}: atLeast ${condition.atLeast} is above atMost ${condition.atMost}, so it can never match`);
      }
    }
    return condition;
  }

  /** `tags: [pii]` means any of them; `tags: { any: [...], all: [...] }` spells it out. */
  private tagCondition(value: Located): TagCondition {
    if (this.r.isList(value)) return { any: this.r.stringList(value) };
    const m = this.r.map(value, ['any', 'all']);
    if (m.size === 0) this.r.fail(value.node, `${value.where} needs any and/or all`);
    const condition: TagCondition = {};
    const any = m.get('any');
    if (any) condition.any = this.r.stringList(any, true);
    const all = m.get('all');
    if (all) condition.all = this.r.stringList(all, true);
    return condition;
  }

  /** `[a, b]` means in; `{ in: [...], notIn: [...] }` spells it out. */
  private setCondition(value: Located): SetCondition {
    if (this.r.isList(value)) return { in: this.r.stringList(value) };
    const m = this.r.map(value, ['in', 'notIn']);
    if (m.size === 0) this.r.fail(value.node, `${value.where} needs in and/or notIn`);
    const condition: SetCondition = {};
    const inList = m.get('in');
    if (inList) condition.in = this.r.stringList(inList, true);
    const notIn = m.get('notIn');
    if (notIn) condition.notIn = this.r.stringList(notIn, true);
    return condition;
  }

  /** Path globs are relative to the config file's folder; stored absolute. */
  private pathGlob(value: Located): string {
    const glob = this.r.glob(value);
    return isAbsolute(glob) ? glob : resolve(this.config.baseDir, glob);
  }

  /** Source globs: URIs as written (`tcp://*.example.com:*`), paths as this node's file URIs. */
  private sourceGlob(value: Located): string {
    const text = this.r.string(value);
    const glob = text.includes('://') ? text : fileUri(this.config.node, isAbsolute(text) ? text : resolve(this.config.baseDir, text));
    const problem = globProblem(glob);
    if (problem) this.r.fail(value.node, `${value.where} "${text}" ${problem}`);
    return glob;
  }

  /** A url matcher names an origin: resource URIs of HTTP destinations hold no path. */
  private urlPrefix(value: Located): string {
    const text = this.r.string(value);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.r.fail(value.node, `${value.where} "${text}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      this.r.fail(value.node, `${value.where} "${text}" must be an http:// or https:// URL`);
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
