/**
 * The `rules:` section of the config: ids, deny/allow, and the data and destination conditions,
 * each checked with its line and column like the rest of the file (validate.ts reads the rest).
 */
import { isAbsolute, resolve } from 'node:path';
import { globProblem } from './glob.js';
import {
  fileUri,
  type DataCondition,
  type DestinationCondition,
  type LevelCondition,
  type PolicyRuleSpec,
  type ResourceKind,
  type SetCondition,
  type TagCondition,
} from './types.js';
import type { Located, YamlReader } from './yaml-reader.js';

/** Rule ids the engine itself reports; a user rule may not take them or denials become ambiguous. */
export const BUILT_IN_RULE_IDS = ['confidentiality', 'integrity', 'revoked', 'policy-fault'] as const;

const RESOURCE_KINDS: readonly ResourceKind[] = ['file', 'tcp', 'udp', 'unix', 'http', 'https', 'service', 'process'];

export type LatticeName = 'confidentiality' | 'integrity';

/** Value readers shared with the rest of the config (level names, path globs). */
export interface ValueReaders {
  level(lattice: LatticeName, value: Located): string;
  pathGlob(value: Located): string;
  commandGlob(value: Located): string;
}

export class RuleValidator {
  constructor(
    private readonly r: YamlReader,
    private readonly levels: { readonly confidentiality: readonly string[]; readonly integrity: readonly string[] },
    private readonly values: ValueReaders,
    private readonly node: string,
    private readonly baseDir: string,
  ) {}

  readRules(value: Located): PolicyRuleSpec[] {
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
    const m = this.r.map(value, ['kind', 'path', 'host', 'port', 'service', 'command', 'location', 'labels']);
    const condition: DestinationCondition = {};
    const kind = m.get('kind');
    if (kind) condition.kind = this.r.list(kind, true).map((item) => this.r.oneOf(item, RESOURCE_KINDS));
    const path = m.get('path');
    if (path) condition.path = this.values.pathGlob(path);
    const host = m.get('host');
    if (host) condition.host = this.r.hostGlob(host);
    const port = m.get('port');
    if (port) condition.port = this.r.integer(port, 0, 65_535);
    const service = m.get('service');
    if (service) condition.service = this.r.glob(service);
    const command = m.get('command');
    if (command) condition.command = this.values.commandGlob(command);
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
    if (atLeast) condition.atLeast = this.values.level(lattice, atLeast);
    const atMost = m.get('atMost');
    if (atMost) condition.atMost = this.values.level(lattice, atMost);
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

  /** Source globs: URIs as written (`tcp://*.example.com:*`), paths as this node's file URIs. */
  private sourceGlob(value: Located): string {
    const text = this.r.string(value);
    const glob = text.includes('://') ? text : fileUri(this.node, isAbsolute(text) ? text : resolve(this.baseDir, text));
    const problem = globProblem(glob);
    if (problem) this.r.fail(value.node, `${value.where} "${text}" ${problem}`);
    return glob;
  }
}
