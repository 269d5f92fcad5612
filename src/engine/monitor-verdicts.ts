/**
 * A runtime monitor's verdict on an action, journaled as one FlowRecord (op `monitor`) with the
 * evidence it rests on; in enforce mode a verify-then-trust denial becomes the 403 refusal sent
 * instead of running the handler.
 */
import { diag } from '@opentelemetry/api';
import type { CompiledMonitor } from '../monitor/compile.js';
import { formatConstant } from '../monitor/syntax.js';
import type { Verdict } from '../monitor/verdict.js';
import type { FlowContext } from '../provenance/context.js';
import type { Decision } from '../policy/types.js';
import type { AttestationParts, RequestAction } from './attestations.js';

/** The refusal a verify-then-trust monitor sends instead of running the handler. */
export interface Refusal {
  readonly status: 403;
  readonly body: string;
}

export interface ActionState extends RequestAction {
  readonly ctx: FlowContext;
  readonly time: number;
}

/** Journals a monitor's verdict; a refusal when it stops the action (verify-then-trust, enforce mode). */
export function concludeVerdict(
  parts: AttestationParts,
  monitor: CompiledMonitor,
  action: ActionState,
  verdict: Verdict,
): Refusal | undefined {
  const stops = verdict.outcome === 'deny' && monitor.mode === 'verify-then-trust' && parts.mode() === 'enforce';
  const decision: Decision =
    verdict.outcome === 'permit'
      ? { kind: 'allow', rule: monitor.id, reason: verdict.reason }
      : { kind: stops ? 'deny' : 'violation', rule: monitor.id, reason: verdict.reason };
  const evidence = verdict.facts.flatMap((id) => {
    const fact = parts.facts.get(id);
    return fact === undefined ? [] : [fact];
  });
  const statement = `${verdict.goal.relation}(${verdict.goal.values.map(formatConstant).join(', ')})`;
  try {
    parts.contexts.runWith(action.ctx, () =>
      parts.recorder.record({
        ctx: action.ctx,
        span: 'provenant.monitor',
        op: 'monitor',
        resource: parts.resources.process(process.pid),
        data: action.ctx.provenance,
        decision,
        options: {
          attributes: {
            'provenant.monitor': monitor.id,
            'provenant.monitor.mode': monitor.mode,
            'http.request.method': action.method,
            'url.path': action.path,
          },
        },
        links: [],
        action: statement,
        claims: {
          verdict: {
            monitor: monitor.id,
            mode: monitor.mode,
            effect: monitor.effect,
            goal: { relation: verdict.goal.relation, values: [...verdict.goal.values] },
            program: monitor.source,
            at: action.time,
            ...(verdict.missing ? { missing: verdict.missing.premise } : {}),
          },
          evidence,
        },
      }),
    );
  } catch (error) {
    diag.warn(`provenant: recording the verdict of monitor ${monitor.id} failed`, error);
  }
  if (!stops) return undefined;
  return {
    status: 403,
    body: JSON.stringify({
      type: 'urn:provenant:problem:premise-missing',
      title: 'Action refused by a runtime monitor',
      status: 403,
      detail: verdict.reason,
      monitor: monitor.id,
      action: statement,
      ...(verdict.missing ? { missing: verdict.missing.premise } : {}),
    }),
  };
}
