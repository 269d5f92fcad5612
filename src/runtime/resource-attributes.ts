/** OTel resource attributes of this process: service.name, host.name, process.pid, provenant.node. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { internally } from '../support/reentrancy.js';

/** service.name: OTEL_SERVICE_NAME, else config `service`, else the app's package name, else the script name. */
export function resolveServiceName(env: NodeJS.ProcessEnv, configured: string | undefined): string {
  const fromEnv = env['OTEL_SERVICE_NAME']?.trim();
  if (fromEnv) return fromEnv;
  if (configured) return configured;
  return appPackageName() ?? 'unknown_service:node';
}

export function resourceAttributes(service: string, node: string, env: NodeJS.ProcessEnv): Attributes {
  return {
    ...parseResourceAttributesEnv(env['OTEL_RESOURCE_ATTRIBUTES']),
    'service.name': service,
    'host.name': hostname(),
    'process.pid': process.pid,
    'provenant.node': node,
  };
}

/** OTEL_RESOURCE_ATTRIBUTES: `k=v,k2=v2`, values percent-encoded (OTel SDK environment spec). */
function parseResourceAttributesEnv(raw: string | undefined): Attributes {
  const out: Attributes = {};
  for (const pair of (raw ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed pair is skipped, as the SDK does.
    }
  }
  return out;
}

function appPackageName(): string | undefined {
  const entry = process.argv[1];
  if (!entry) return undefined;
  let dir = dirname(entry);
  for (let depth = 0; depth < 16; depth++) {
    const name = internally(() => {
      try {
        const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
        return typeof parsed.name === 'string' ? parsed.name : undefined;
      } catch {
        return undefined;
      }
    });
    if (name) return name;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}
