/**
 * The engine's bridge to the node-local store: the provenance a file carries (as an interned set),
 * and what a write, copy, move, link or delete changes in it. Only files have stored provenance;
 * any other resource carries just its own URI and labels.
 *
 * Files are looked up by identity (provenance/file-identity.ts), so every name of a file shares
 * its provenance. Provenance the store cannot persist (a full or failing disk) is kept in memory
 * for this process, and `persist` says so: the engine then fails closed for labelled data.
 */
import { diag, type SpanContext } from '@opentelemetry/api';
import { FileIdentities, type FileIdentity } from '../provenance/file-identity.js';
import { HardLinkIndex } from '../provenance/hard-links.js';
import type { Labels, LabelSchema, PublicLabels } from '../provenance/labels.js';
import { MemoryProvenanceStore } from '../provenance/memory-store.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import type { ProvenanceStore, StoredProvenance } from '../provenance/store.js';
import { joinStored } from '../provenance/stored-provenance.js';

export type { FileIdentity } from '../provenance/file-identity.js';

export interface FileState {
  readonly provenance: ProvenanceSet;
  /** Span of the write that produced the file's content, when one was recorded. */
  readonly writeSpan: SpanContext | undefined;
  /** Other real paths of the same inode (hard links) the store knows: a write to the file writes them too. */
  readonly otherNames: readonly string[];
}

export class FileProvenance {
  readonly identities = new FileIdentities();
  private readonly storedSets = new WeakMap<StoredProvenance, ProvenanceSet>();
  /** Per identity: the provenance set id last merged into the store by this process. */
  private readonly merged = new WeakMap<FileIdentity, number>();
  /** Identities whose name this process has recorded with their inode (files with several hard links). */
  private readonly namesRecorded = new WeakSet<FileIdentity>();
  /** Provenance the store could not persist: kept for this process, joined into every lookup. */
  private readonly unpersisted: MemoryProvenanceStore;
  private readonly warnedLevels = new Set<string>();
  private readonly links = new HardLinkIndex();
  private warnedIncomplete = false;
  private readonly none: FileState;
  /** Writes whose provenance only this process knows (reported with the denials it causes). */
  unpersistedWrites = 0;
  /** Of those, the ones not yet reported since the store last worked (takeUnreported). */
  private unreported = 0;
  private storeWorkedAgain = false;

  constructor(
    private readonly sets: ProvenanceSets,
    private readonly schema: LabelSchema,
    private readonly store: ProvenanceStore | undefined,
    /** A name's own provenance (its URI with its configured labels), or undefined when its labels are the defaults. */
    private readonly nameProvenance: (path: string) => ProvenanceSet | undefined,
    /** Where the config labels files (policy `labelledFolders`): where other names of a labelled file can be. */
    private readonly labelledFolders: () => readonly string[],
  ) {
    this.none = { provenance: sets.empty, writeSpan: undefined, otherNames: [] };
    this.unpersisted = new MemoryProvenanceStore(schema);
  }

  /** What the store holds for `resource` (empty for anything but a recorded file). */
  stateOf(resource: Resource): FileState {
    if (resource.kind !== 'file' || !this.store) return this.none;
    const file = this.identities.of(resource.path as string);
    if (file.links > 1 && !this.namesRecorded.has(file)) this.recordNames(file);
    const stored = this.lookup(file);
    if (stored === undefined) return this.none;
    const names = stored.names;
    return {
      provenance: this.fromStored(stored),
      writeSpan: stored.writeSpan,
      otherNames: names === undefined ? [] : names.filter((name) => name !== file.path),
    };
  }

  provenanceOf(resource: Resource): ProvenanceSet {
    return this.stateOf(resource).provenance;
  }

  /** True when `data` is already recorded for the file by this process (nothing to persist). */
  isPersisted(resource: Resource, data: ProvenanceSet): boolean {
    if (!this.store || resource.kind !== 'file' || data.id === 0) return true;
    const file = this.identities.of(resource.path as string);
    return this.merged.get(file) === data.id && !this.store.uncommitted(file);
  }

  /**
   * An allowed write: the file's provenance gains `data`, durable before this returns (inside
   * `deferDurability`: once `durable()` settles). False when the store could not persist it: it
   * is then kept in memory for this process only.
   */
  persist(resource: Resource, data: ProvenanceSet, writeSpan: SpanContext | undefined): boolean {
    const store = this.store;
    if (!store || resource.kind !== 'file' || data.id === 0) return true;
    const file = this.identities.of(resource.path as string);
    const added = this.merged.get(file) === data.id ? undefined : this.toStored(data, writeSpan);
    try {
      // Already merged: it may still wait for a commit this write must not overtake.
      if (added === undefined) {
        if (store.uncommitted(file)) store.flush();
      } else store.merge(file, added);
    } catch (error) {
      if (added !== undefined) {
        this.unpersisted.merge(file, added);
        this.unpersistedWrites++;
        this.unreported++;
      }
      diag.warn(`provenant: the provenance of ${file.path} could not be saved in the node-local store; only this process knows it`, error);
      return false;
    }
    this.merged.set(file, data.id);
    if (this.unreported > 0) this.storeWorkedAgain = true;
    return true;
  }

  /** See ProvenanceStore.deferDurability: `fn`'s commits do not wait for the disk; `durable()` does. */
  deferDurability<T>(fn: () => T): T {
    return this.store ? this.store.deferDurability(fn) : fn();
  }

  durable(): Promise<void> | undefined {
    return this.store?.durable();
  }

  durableNow(): void {
    this.store?.durableNow();
  }

  /** Once a merge has succeeded after failures: how many writes the store could not persist before it (then 0). */
  takeUnreported(): number {
    if (!this.storeWorkedAgain) return 0;
    const count = this.unreported;
    this.unreported = 0;
    this.storeWorkedAgain = false;
    return count;
  }

  /**
   * An allowed copy, move or hard link, before it happens: a copy's destination gets `data` (the
   * source's provenance and the source itself) in place of what it held; a move's or a link's
   * inode gains it, and a link records both names with the inode.
   */
  transfer(op: 'copy' | 'move' | 'link', source: Resource, destination: Resource, data: ProvenanceSet): void {
    const store = this.store;
    if (!store) return;
    const from = this.identities.of(source.path as string);
    const to = this.identities.of(destination.path as string);
    const added = this.toStored(data, undefined);
    if (op === 'copy') {
      // A copy overwrites the destination in place (same inode, same names): no cached identity
      // goes stale but a new destination's. What the destination held is replaced, which a merge alone does when it held
      // nothing beyond `added`; the merge then waits for the group commit of an asynchronous
      // copy, where a retire would commit (a write transaction) per copy.
      if (!this.holdsOnly(to, added)) store.retire(to);
      if (data.id !== 0) store.merge(to, added);
      if (to.inode === undefined) this.identities.forgetMissing();
      return;
    }
    if (op === 'move') {
      store.move(from.path, to.path, to.inode === undefined ? undefined : to);
      if (data.id !== 0) store.merge(from, added);
    } else {
      store.merge(from, { ...added, names: [from.path, to.path] });
    }
    this.namesChanged();
  }

  /**
   * unlink / rm, after the fact (identities taken before): true when some file had provenance, now
   * retired. The caller says which cached names went stale (`namesChanged`, `filesRemoved`).
   */
  retire(files: readonly FileIdentity[]): boolean {
    let retired = false;
    for (const file of files) {
      if (this.lookup(file) === undefined) continue;
      this.store?.retire(file);
      this.unpersisted.retire(file);
      retired = true;
    }
    return retired;
  }

  /** Rename, unlink, link or symlink happened: cached identities may be stale. */
  namesChanged(): void {
    this.identities.forgetAll();
  }

  /** Only regular files were removed: their identities are stale, folders' real paths are not. */
  filesRemoved(): void {
    this.identities.forgetFiles();
  }

  /**
   * True when the file's stored provenance is nothing but what `added` brings (or nothing), so
   * merging `added` leaves exactly `added`: no other sources or labels, no other names, no write
   * span that a retire would drop.
   */
  private holdsOnly(file: FileIdentity, added: StoredProvenance): boolean {
    const current = this.lookup(file);
    if (current === undefined) return true;
    if (current.writeSpan !== undefined || current.names !== undefined) return false;
    return joinStored(this.schema, added, current) === added;
  }

  private lookup(file: FileIdentity): StoredProvenance | undefined {
    const stored = this.store?.get(file);
    if (this.unpersisted.size === 0) return stored;
    const kept = this.unpersisted.get(file);
    return kept === undefined ? stored : joinStored(this.schema, stored, kept);
  }

  /**
   * A file with several hard links, met by some name: the inode remembers its labelled names and
   * their labels, so reading any other name carries them and writing any other name is checked
   * against them. Names this process has not met (a link made before it started, or by a process
   * without provenant) are looked for under the folders the config labels (hard-links.ts).
   * Names with the default labels are not recorded: hard-linked package stores (pnpm) would
   * otherwise cost a store write per file.
   */
  private recordNames(file: FileIdentity): void {
    this.namesRecorded.add(file);
    const known = this.lookup(file)?.names ?? [];
    if (known.length >= file.links && known.includes(file.path)) return;
    const candidates = [file.path, ...this.links.namesOf(file.inode as string, this.labelledFolders())];
    if (!this.links.complete && !this.warnedIncomplete) {
      this.warnedIncomplete = true;
      diag.warn(
        'provenant: the folders the config labels hold too many files to look for every hard link in; some names of linked files stay unknown',
      );
    }
    for (const name of new Set(candidates)) {
      const own = known.includes(name) ? undefined : this.nameProvenance(name);
      if (own === undefined) continue;
      try {
        this.store?.merge(file, { ...this.toStored(own, undefined), names: [name] });
      } catch (error) {
        diag.warn(`provenant: recording ${name} as a name of its inode failed`, error);
      }
    }
  }

  private fromStored(stored: StoredProvenance): ProvenanceSet {
    let set = this.storedSets.get(stored);
    if (set === undefined) {
      set = this.sets.of(stored.sources, this.labelsOf(stored.labels));
      this.storedSets.set(stored, set);
    }
    return set;
  }

  /**
   * Stored labels as this process's schema reads them. Config labels always apply (they come
   * from the name, not from here); a level this process does not know (another service's
   * `levels`, a damaged or forged row) counts as the most restrictive one, with one warning.
   */
  private labelsOf(labels: PublicLabels): Labels {
    const schema = this.schema;
    const confidentiality =
      schema.confidentialityLevel(labels.confidentiality) ?? this.unknownLevel('confidentiality', labels.confidentiality);
    const integrity = schema.integrityLevel(labels.integrity) ?? this.unknownLevel('integrity', labels.integrity);
    return schema.fromPublic({ tags: labels.tags, locations: labels.locations }, { ...schema.neutral, confidentiality, integrity });
  }

  private unknownLevel(kind: 'confidentiality' | 'integrity', name: string): number {
    if (!this.warnedLevels.has(`${kind}\u0000${name}`)) {
      this.warnedLevels.add(`${kind}\u0000${name}`);
      diag.warn(
        `provenant: the node-local store holds ${kind} level "${name}", which this process's levels do not know; it counts as the most restrictive`,
      );
    }
    return kind === 'confidentiality' ? this.schema.confidentiality.length - 1 : 0;
  }

  private toStored(data: ProvenanceSet, writeSpan: SpanContext | undefined): StoredProvenance {
    const stored: StoredProvenance = { sources: [...data.sources], labels: this.schema.toPublic(data.labels) };
    if (writeSpan) stored.writeSpan = writeSpan;
    return stored;
  }
}
