/**
 * Which lineage spans are kept. Flow spans follow OTEL_TRACES_SAMPLER (+ OTEL_TRACES_SAMPLER_ARG)
 * as the OpenTelemetry spec defines them (SDK 3.x no longer reads them itself). Evidence spans —
 * denials and checkpoints — are recorded and sampled whatever the sampler or the parent's flag
 * says: behind a gateway sampling 1 %, a denial must still reach a "keep every denial" policy.
 */
import { diag, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace';
import type { LineageSpanName } from '../engine/sinks.js';
import { otelSdkTrace } from '../support/otel-sdk.js';

const EVIDENCE: ReadonlySet<string> = new Set<LineageSpanName>(['provenant.deny', 'provenant.checkpoint']);

/** Denials and checkpoints: kept whatever the sampler says. */
export function isEvidence(name: LineageSpanName): boolean {
  return EVIDENCE.has(name);
}

/** Whether OTEL_TRACES_SAMPLER names the spec's default, parentbased_always_on (unset included). */
export function defaultSampling(env: NodeJS.ProcessEnv): boolean {
  const name = (env['OTEL_TRACES_SAMPLER'] ?? '').trim().toLowerCase();
  return name === '' || name === 'parentbased_always_on';
}

export class EvidenceSampler implements Sampler {
  constructor(private readonly flows: Sampler) {}

  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (EVIDENCE.has(name)) return { decision: otelSdkTrace().SamplingDecision.RECORD_AND_SAMPLED };
    return this.flows.shouldSample(context, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `EvidenceSampler{flows=${this.flows.toString()}}`;
  }
}

/** The sampler OTEL_TRACES_SAMPLER names; the spec's default (parentbased_always_on) otherwise. */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = otelSdkTrace();
  const name = (env['OTEL_TRACES_SAMPLER'] ?? '').trim().toLowerCase();
  const ratio = (): Sampler => new TraceIdRatioBasedSampler(ratioArg(env['OTEL_TRACES_SAMPLER_ARG']));
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    case '':
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      diag.warn(`provenant: unsupported OTEL_TRACES_SAMPLER "${name}", using parentbased_always_on`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function ratioArg(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const value = Number(raw);
  if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
  diag.warn(`provenant: OTEL_TRACES_SAMPLER_ARG "${raw}" is not a ratio in [0, 1], using 1`);
  return 1;
}
