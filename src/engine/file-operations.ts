/**
 * Flows between files that no context drives (copy, move, link, symlink), dumps of the whole
 * process, and removals: each is decided and recorded like a write, with the data the files (or
 * the process) hold rather than a context's.
 */
import { diag } from '@opentelemetry/api';
import type { ProvenanceDeniedError } from '../errors.js';
import type { FlowContexts } from '../provenance/context.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource, ResourceRegistry } from '../provenance/resource.js';
import { ALLOW, type Decision } from '../policy/types.js';
import type { PolicySource } from './decisions.js';
import type { FileIdentity, FileProvenance } from './file-provenance.js';
import type { OwnProvenance } from './own-provenance.js';
import type { ProcessWide } from './process-wide.js';
import type { FlowRecorder } from './recorder.js';
import type { WriteFlows } from './write-flows.js';

export type TransferOp = 'copy' | 'move' | 'link' | 'symlink';

export interface FileOperationParts {
  policy: PolicySource;
  contexts: FlowContexts;
  resources: ResourceRegistry;
  sets: ProvenanceSets;
  files: FileProvenance;
  own: OwnProvenance;
  processWide: ProcessWide;
  recorder: FlowRecorder;
  writes: WriteFlows;
  /** The file resource of an absolute path (its real path). */
  file: (absolutePath: string) => Resource;
  /** The error a denial surfaces as, carrying the data's labels. */
  denied: (decision: Decision, resource: Resource, data: ProvenanceSet) => ProvenanceDeniedError;
}

export class FileOperations {
  constructor(private readonly parts: FileOperationParts) {}

  /** See FlowEngine.transfer. */
  transfer(op: TransferOp, from: string, to: string): ProvenanceDeniedError | undefined {
    const { parts } = this;
    const source = parts.file(from);
    const destination = parts.file(to);
    const policy = parts.policy.current;
    const data = parts.own.of(source, parts.files.provenanceOf(source), policy);
    let decision = parts.writes.decide(policy, data, destination);
    try {
      // A symlink needs nothing stored: its reads and writes resolve to the file it names.
      if (decision.kind !== 'deny' && op !== 'symlink') {
        try {
          parts.files.transfer(op, source, destination, data);
        } catch (error) {
          diag.warn(`provenant: saving the provenance of ${op} ${from} → ${to} failed`, error);
          decision = parts.writes.unpersisted(policy, data, decision);
        }
      }
      parts.recorder.record({
        ctx: parts.contexts.current(),
        span: decision.kind === 'deny' ? 'provenant.deny' : 'provenant.write',
        op: op === 'link' || op === 'symlink' ? 'copy' : op,
        resource: destination,
        data,
        decision,
        options: { attributes: { 'file.path': to, 'provenant.from': from, 'provenant.transfer': op } },
        links: [],
      });
    } catch (error) {
      diag.warn(`provenant: recording ${op} ${from} → ${to} failed`, error);
    }
    return decision.kind === 'deny' ? parts.denied(decision, destination, data) : undefined;
  }

  /** See FlowEngine.authorizeProcessDump. */
  authorizeProcessDump(absolutePath: string, kind: string): ProvenanceDeniedError | undefined {
    const { parts } = this;
    const resource = parts.file(absolutePath);
    const policy = parts.policy.current;
    const data = parts.processWide.data();
    let decision = parts.writes.decide(policy, data, resource);
    try {
      if (decision.kind !== 'deny' && !parts.files.persist(resource, data, undefined))
        decision = parts.writes.unpersisted(policy, data, decision);
      parts.writes.record(parts.contexts.current(), resource, data, decision, undefined, {
        attributes: { 'file.path': resource.path as string, 'provenant.dump': kind },
      });
    } catch (error) {
      diag.warn(`provenant: recording the ${kind} written to ${absolutePath} failed`, error);
    }
    return decision.kind === 'deny' ? parts.denied(decision, resource, data) : undefined;
  }

  /** See FlowEngine.retire. */
  retire(files: readonly FileIdentity[]): void {
    const { parts } = this;
    try {
      if (!parts.files.retire(files)) return;
      for (const file of files) {
        parts.recorder.record({
          ctx: parts.contexts.current(),
          span: 'provenant.write',
          op: 'delete',
          resource: parts.resources.file(file.path),
          data: parts.sets.empty,
          decision: ALLOW,
          options: { attributes: { 'file.path': file.path } },
          links: [],
        });
      }
    } catch (error) {
      diag.warn(`provenant: retiring the provenance of ${files.map((file) => file.path).join(', ')} failed`, error);
    }
  }
}
