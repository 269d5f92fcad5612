/**
 * Typed reads over a parsed YAML document that keep every value's position, so each validation
 * problem is reported at the line and column where it is written.
 */
import type { Alias, Document, LineCounter, Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { yamlLib } from './yaml-lib.js';
import { ConfigError } from './errors.js';
import { canonicalHost } from '../support/host-address.js';
import { globProblem } from './glob.js';
import { closestMatch } from './suggest.js';
import type { TextPosition } from './types.js';

// The parser's node tests and scalar kinds, from the lazily required package (yaml-lib.ts).
const isAlias = (node: unknown): node is Alias => yamlLib().isAlias(node);
const isMap = (node: unknown): node is YAMLMap => yamlLib().isMap(node);
const isScalar = (node: unknown): node is Scalar => yamlLib().isScalar(node);
const isSeq = (node: unknown): node is YAMLSeq => yamlLib().isSeq(node);
const scalarType = (name: 'BLOCK_LITERAL' | 'BLOCK_FOLDED' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'): Scalar.Type => yamlLib().Scalar[name];

/** A present value: its node and the readable path used in messages (`rules[2].deny.data`). */
export interface Located {
  readonly node: Node;
  readonly where: string;
}

export class YamlReader {
  constructor(
    private readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly source: string,
  ) {}

  /** Where the text of a string value starts (after a quote; on the line after a `|` header). */
  textPosition(value: Located): TextPosition {
    const node = this.deref(value.node);
    const start = startOf(node);
    if (isScalar(node) && (node.type === scalarType('BLOCK_LITERAL') || node.type === scalarType('BLOCK_FOLDED'))) {
      const lineStart = this.source.indexOf('\n', start) + 1;
      const indent = /^[ ]*/.exec(this.source.slice(lineStart))?.[0].length ?? 0;
      const { line, col } = this.lines.linePos(lineStart + indent);
      return { line, column: col, block: node.type === scalarType('BLOCK_LITERAL') };
    }
    const quoted = isScalar(node) && (node.type === scalarType('QUOTE_DOUBLE') || node.type === scalarType('QUOTE_SINGLE'));
    const { line, col } = this.lines.linePos(start + (quoted ? 1 : 0));
    return { line, column: col, block: false };
  }

  /** Throw a ConfigError placed at `node` (or at the start of the file). */
  fail(node: Node | Pair | undefined, problem: string): never {
    const offset = node ? startOf(node) : 0;
    const { line, col } = this.lines.linePos(offset);
    throw new ConfigError(problem, this.file, line, col);
  }

  failAt(offset: number, problem: string): never {
    const { line, col } = this.lines.linePos(offset);
    throw new ConfigError(problem, this.file, line, col);
  }

  lineOf(node: Node): number {
    return this.lines.linePos(startOf(node)).line;
  }

  /**
   * The entries of a mapping, checking every key against `allowed`. A misspelt key is an error
   * naming the closest valid key, never silently ignored.
   */
  map(value: Located, allowed: readonly string[]): Map<string, Located> {
    const node = this.deref(value.node);
    if (!isMap(node)) this.fail(node, `${value.where || 'the config'} must be a mapping (key: value), got ${describe(node)}`);
    const entries = new Map<string, Located>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') this.fail(keyNode ?? node, `keys in ${value.where} must be plain words`);
      const key = keyNode.value;
      if (!allowed.includes(key)) {
        const suggestion = closestMatch(key, allowed);
        const scope = value.where === '' ? 'at the top level' : `in ${value.where}`;
        this.fail(
          keyNode,
          `unknown key "${key}" ${scope}${suggestion ? ` (did you mean "${suggestion}"?)` : ` (valid keys: ${allowed.join(', ')})`}`,
        );
      }
      const valueNode = pair.value as Node | null;
      // `key:` with nothing after it is the same as leaving the key out.
      if (valueNode === null || (isScalar(valueNode) && valueNode.value === null)) continue;
      entries.set(key, { node: valueNode, where: value.where === '' ? key : `${value.where}.${key}` });
    }
    return entries;
  }

  /** The items of a sequence; a single scalar is accepted as a one-item list when `allowSingle`. */
  list(value: Located, allowSingle = false): Located[] {
    const node = this.deref(value.node);
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const itemNode = item as Node | null;
        if (itemNode === null) this.fail(node, `${value.where}[${i}] is empty`);
        return { node: itemNode, where: `${value.where}[${i}]` };
      });
    }
    if (allowSingle && isScalar(node)) return [value];
    this.fail(node, `${value.where} must be a list, got ${describe(node)}`);
  }

  isList(value: Located): boolean {
    return isSeq(this.deref(value.node));
  }

  string(value: Located): string {
    const node = this.deref(value.node);
    if (isScalar(node) && typeof node.value === 'string') {
      if (node.value.length === 0) this.fail(node, `${value.where} must not be empty`);
      return node.value;
    }
    this.fail(node, `${value.where} must be a string, got ${describe(node)}`);
  }

  /** An http:// or https:// URL. */
  httpUrl(value: Located): URL {
    const text = this.string(value);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.fail(value.node, `${value.where} "${text}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      this.fail(value.node, `${value.where} "${text}" must be an http:// or https:// URL`);
    return url;
  }

  stringList(value: Located, allowSingle = false): string[] {
    return this.list(value, allowSingle).map((item) => this.string(item));
  }

  oneOf<T extends string>(value: Located, options: readonly T[]): T {
    const text = this.string(value);
    if ((options as readonly string[]).includes(text)) return text as T;
    const suggestion = closestMatch(text, options);
    this.fail(
      value.node,
      `${value.where} must be one of ${options.join(', ')}, got "${text}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    );
  }

  boolean(value: Located): boolean {
    const node = this.deref(value.node);
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.fail(node, `${value.where} must be true or false, got ${describe(node)}`);
  }

  integer(value: Located, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const node = this.deref(value.node);
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) {
      this.fail(node, `${value.where} must be a whole number, got ${describe(node)}`);
    }
    if (node.value < min || node.value > max) this.fail(node, `${value.where} must be between ${min} and ${max}, got ${node.value}`);
    return node.value;
  }

  number(value: Located, min: number): number {
    const node = this.deref(value.node);
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isFinite(node.value)) {
      this.fail(node, `${value.where} must be a number, got ${describe(node)}`);
    }
    if (node.value < min) this.fail(node, `${value.where} must be at least ${min}, got ${node.value}`);
    return node.value;
  }

  glob(value: Located): string {
    const text = this.string(value);
    const problem = globProblem(text);
    if (problem) this.fail(value.node, `${value.where} "${text}" ${problem}`);
    return text;
  }

  /** A host glob; a literal host or IP in its canonical form (`127.3` is 127.0.0.3), as destinations are named. */
  hostGlob(value: Located): string {
    const text = this.glob(value);
    return /[*?[\]{}!]/.test(text) ? text.toLowerCase() : canonicalHost(text);
  }

  globList(value: Located, allowSingle = false): string[] {
    return this.list(value, allowSingle).map((item) => this.glob(item));
  }

  /** Aliases (`*anchor`) read as the node they point to. */
  private deref(node: Node): Node {
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) this.fail(node, `unknown alias *${node.source}`);
      return target;
    }
    return node;
  }
}

function startOf(node: Node | Pair): number {
  if ('range' in node && node.range) return node.range[0];
  if ('key' in node && node.key && typeof node.key === 'object' && 'range' in node.key) {
    const range = (node.key as Scalar).range;
    if (range) return range[0];
  }
  return 0;
}

function describe(node: Node): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return 'nothing';
    if (typeof value === 'string') return `the string "${value}"`;
    if (typeof value === 'number') return `the number ${value}`;
    if (typeof value === 'boolean') return String(value);
  }
  return 'an unsupported value';
}
