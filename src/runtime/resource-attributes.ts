/**
 * OTel resource attributes of this process, as the SDK would make them: telemetry.sdk.*,
 * service.instance.id, service.version (the app's package.json, when found), then
 * OTEL_RESOURCE_ATTRIBUTES, then service.name, host.name, process.pid and provenant.node.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { otelResources } from '../support/otel-sdk.js';
import { internally } from '../support/reentrancy.js';

/** service.name: OTEL_SERVICE_NAME, else config `service`, else the app's package name, else the script name. */
export function resolveServiceName(env: NodeJS.ProcessEnv, configured: string | undefined): string {
  const fromEnv = env['OTEL_SERVICE_NAME']?.trim();
  if (fromEnv) return fromEnv;
  if (configured) return configured;
  return appPackage()?.name ?? 'unknown_service:node';
}

/**
 * One per process, as the SDK's serviceInstanceIdDetector makes it: spans of two runs never merge.
 * Made when first asked (only with export on), not as the bundle loads in every thread.
 */
let serviceInstanceId: string | undefined;

export function resourceAttributes(service: string, node: string, env: NodeJS.ProcessEnv): Attributes {
  const { ['service.name']: _defaultName, ...sdk } = otelResources().defaultResource().attributes;
  return { ...sdk, ...processResourceAttributes(service, node, env) };
}

/**
 * The same but the SDK's own `telemetry.sdk.*`, without loading the SDK: for the export thread,
 * which adds them (lineage/span-export.ts).
 */
export function processResourceAttributes(service: string, node: string, env: NodeJS.ProcessEnv): Attributes {
  const version = appPackage()?.version;
  return {
    'service.instance.id': (serviceInstanceId ??= randomUUID()),
    ...(version !== undefined ? { 'service.version': version } : {}),
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

interface AppPackage {
  name: string;
  version: string | undefined;
}

let appPackageFound: AppPackage | undefined | null = null;

/** The nearest package.json above the entry script that has a name (looked up once). */
function appPackage(): AppPackage | undefined {
  if (appPackageFound === null) appPackageFound = findAppPackage();
  return appPackageFound;
}

function findAppPackage(): AppPackage | undefined {
  const entry = process.argv[1];
  if (!entry) return undefined;
  let dir = dirname(entry);
  for (let depth = 0; depth < 16; depth++) {
    const found = internally((): AppPackage | undefined => {
      try {
        const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof parsed.name !== 'string' || parsed.name === '') return undefined;
        return { name: parsed.name, version: typeof parsed.version === 'string' ? parsed.version : undefined };
      } catch {
        return undefined;
      }
    });
    if (found) return found;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}
