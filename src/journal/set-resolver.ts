/**
 * The source sets one format-3 segment defines, resolved back to sorted source lists. A
 * definition holds only what it adds to its base, so a set is rebuilt by walking its bases back to
 * one already rebuilt (kept in a cache weighed by sources) and merging forward: memory stays
 * proportional to the segment, not to the sum of its sets' sizes.
 */
import { unionSorted } from '../provenance/labels.js';
import { sourcesDigest } from '../provenance/sources-digest.js';
import { BoundedCache } from '../support/bounded-cache.js';
import { DefinitionError, isSetDefinitionLine, type SetDefinition } from './format.js';

/** Rebuilt sets kept, in source references (8 bytes each): about 8 MiB. */
const CACHE_WEIGHT = 1 << 20;

const SOURCES_FIELD = ',"sources":';
const SET_REFERENCE = /^(?:\[\]|[1-9][0-9]*)(?=[,}])/;

export class SetResolver {
  private readonly definitions = new Map<number, SetDefinition>();
  private readonly rebuilt = new BoundedCache<number, readonly string[]>(CACHE_WEIGHT, (sources) => 1 + sources.length);

  /**
   * Registers the definition at `seq`. With `check`, the set is rebuilt and its count and digest
   * compared (what `verify` does); readers trust a verified journal and rebuild lazily.
   */
  define(seq: number, definition: SetDefinition, check: boolean): void {
    if (!Array.isArray(definition.add) || !definition.add.every((source) => typeof source === 'string'))
      throw new DefinitionError('source set definition without a list of sources');
    if (definition.base !== undefined && !this.definitions.has(definition.base))
      throw new DefinitionError(`source set extends ${definition.base}, not a set defined earlier in this segment`);
    this.definitions.set(seq, definition);
    if (!check) return;
    const sources = this.sources(seq);
    if (sources.length !== definition.count || sourcesDigest(sources) !== definition.digest)
      throw new DefinitionError('source set does not match its count and digest');
  }

  /**
   * What `verify` checks of a leaf of a format-3 segment, in order: a definition must rebuild to
   * its count and digest, and a record must name a set defined before it in this segment.
   * True for a definition.
   */
  checkLine(line: string, seq: number): boolean {
    if (isSetDefinitionLine(line)) {
      let definition: SetDefinition;
      try {
        definition = JSON.parse(line) as SetDefinition;
      } catch {
        throw new DefinitionError('source set definition is not valid JSON');
      }
      this.define(seq, definition, true);
      return true;
    }
    // The first `,"sources":` is the record's own field: only seq, time, op and resource come
    // before it, and a quote inside a JSON string is always escaped.
    const at = line.indexOf(SOURCES_FIELD);
    const start = at + SOURCES_FIELD.length;
    const value = at < 0 ? null : SET_REFERENCE.exec(line.slice(start, start + 17));
    if (value === null) throw new DefinitionError('record without sources');
    if (value[0] !== '[]' && !this.definitions.has(Number(value[0])))
      throw new DefinitionError(`record names source set ${value[0]}, which is not defined before it in this segment`);
    return false;
  }

  /** Whether a set is defined at `seq` (so far, in this segment). */
  has(seq: number): boolean {
    return this.definitions.has(seq);
  }

  /** The sorted sources of the set defined at `seq`. */
  sources(seq: number): readonly string[] {
    const chain: SetDefinition[] = [];
    let at: number | undefined = seq;
    let sources: readonly string[] = [];
    while (at !== undefined) {
      const cached = this.rebuilt.get(at);
      if (cached !== undefined) {
        sources = cached;
        break;
      }
      const definition = this.definitions.get(at);
      if (definition === undefined) throw new DefinitionError(`no source set ${at} in this segment`);
      chain.push(definition);
      at = definition.base;
    }
    // Adds are written sorted; an unsorted one (not this writer's) fails the digest check in verify.
    for (let i = chain.length - 1; i >= 0; i--) sources = unionSorted(sources, chain[i].add);
    this.rebuilt.set(seq, sources);
    return sources;
  }
}
