/**
 * `provenant.record()`: application-level provenance (Tracer-style actions with an end user).
 * The outputs derive from the inputs and from what the current context already holds; each
 * output gets a record and, for files, the derived provenance in the store.
 */
import type { Attributes } from '@opentelemetry/api';
import type { FlowContext } from '../provenance/context.js';
import type { ProvenanceSets } from '../provenance/provenance-set.js';
import type { ResourceRegistry } from '../provenance/resource.js';
import { ALLOW, type CompiledPolicy } from '../policy/types.js';
import type { FileProvenance } from './file-provenance.js';
import type { OwnProvenance } from './own-provenance.js';
import type { FlowRecorder } from './recorder.js';

export interface ApplicationEvent {
  action: string;
  /** Paths (absolute, or relative to the working directory) or URIs the action read. */
  inputs?: string[];
  /** Paths or URIs the action produced. */
  outputs?: string[];
  user?: string;
  attributes?: Record<string, string | number | boolean>;
}

export interface ApplicationEventParts {
  ctx: FlowContext;
  policy: CompiledPolicy;
  resources: ResourceRegistry;
  sets: ProvenanceSets;
  own: OwnProvenance;
  files: FileProvenance;
  recorder: FlowRecorder;
}

export function recordApplicationEvent(event: ApplicationEvent, parts: ApplicationEventParts): void {
  const { ctx, policy, resources, sets, own, files, recorder } = parts;
  let data = ctx.provenance;
  for (const input of event.inputs ?? []) {
    const resource = resources.parse(input);
    data = sets.union(data, own.of(resource, files.provenanceOf(resource), policy));
  }
  const attributes: Attributes = { 'provenant.action': event.action, ...(event.attributes ?? {}) };
  const outputs = event.outputs ?? [];
  const base = {
    ctx,
    span: 'provenant.record',
    op: 'record',
    data,
    decision: ALLOW,
    options: { attributes },
    links: ctx.readLinks,
    action: event.action,
    user: event.user,
  } as const;
  if (outputs.length === 0) {
    recorder.record({ ...base, resource: resources.process(process.pid) });
    return;
  }
  for (const output of outputs) {
    const resource = resources.parse(output);
    files.persist(resource, data, recorder.record({ ...base, resource }));
  }
  ctx.provenance = data;
}
