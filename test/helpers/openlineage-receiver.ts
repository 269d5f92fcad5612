// A real OpenLineage HTTP endpoint for tests: `POST /api/v1/lineage` (Marquez's path), every event
// validated against the vendored OpenLineage JSON Schema and each facet against the schema its
// `_schemaURL` names (provenant's own facets against the schema the package publishes).
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { CUSTOM_FACETS_SCHEMA } from '../../src/openlineage/custom-facets.js';
import type { RunEvent } from '../../src/openlineage/facets.js';
import { repoRoot } from './spawn.js';

const SCHEMAS = path.join(repoRoot, 'test', 'fixtures', 'openlineage');
const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';

function validator(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const file of ['OpenLineage.json', 'LineageFacet.json', 'TagsDatasetFacet.json'])
    ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMAS, file), 'utf8')) as object);
  ajv.addSchema(CUSTOM_FACETS_SCHEMA);
  return ajv;
}

type Facets = Record<string, { _schemaURL?: string } | undefined> | undefined;

export class OpenLineageReceiver {
  readonly events: RunEvent[] = [];
  /** Schema violations, one line each: a passing test expects none. */
  readonly problems: string[] = [];
  /** While set, every POST is answered with this status and nothing is kept (a backend that is down). */
  refuseWith: number | undefined;
  refused = 0;
  private readonly ajv = validator();
  private readonly emitter = new EventEmitter();
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once an accepted event satisfies `test` (also one already received). */
  waitFor(test: (event: RunEvent) => boolean, timeoutMs = 15_000): Promise<RunEvent> {
    const found = this.events.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.emitter.off('event', check);
        reject(
          new Error(
            `no matching OpenLineage event within ${timeoutMs} ms; got ${this.events.length}: ${JSON.stringify(this.events.map((e) => [e.eventType, e.job.name]))}`,
          ),
        );
      }, timeoutMs);
      const check = (event: RunEvent): void => {
        if (!test(event)) return;
        clearTimeout(timer);
        this.emitter.off('event', check);
        resolve(event);
      };
      this.emitter.on('event', check);
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/api/v1/lineage') {
        res.writeHead(404).end();
        return;
      }
      if (this.refuseWith !== undefined) {
        this.refused++;
        res.writeHead(this.refuseWith).end();
        return;
      }
      let event: RunEvent;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RunEvent;
      } catch {
        this.problems.push('body is not JSON');
        res.writeHead(400).end();
        return;
      }
      const problems = this.validate(event);
      this.problems.push(...problems);
      this.events.push(event);
      res.writeHead(problems.length === 0 ? 201 : 400, { 'content-type': 'application/json' }).end(JSON.stringify(problems));
      this.emitter.emit('event', event);
    });
  }

  private validate(event: RunEvent): string[] {
    const problems = this.check(SPEC, event, 'event');
    const facetSets: [string, Facets, 'run' | 'output' | 'other'][] = [
      ['run', event.run.facets, 'run'],
      ['job', (event.job as { facets?: Facets }).facets, 'other'],
      ...event.inputs.map((d, i): [string, Facets, 'other'] => [`inputs[${i}]`, d.facets as Facets, 'other']),
      ...event.outputs.map((d, i): [string, Facets, 'output'] => [`outputs[${i}]`, d.facets as Facets, 'output']),
    ];
    for (const [where, facets, kind] of facetSets) {
      for (const [name, facet] of Object.entries(facets ?? {})) {
        const schema = this.schemaOf(name, facet?._schemaURL, kind);
        if (schema === undefined) problems.push(`${where}.facets.${name}: no schema for ${facet?._schemaURL}`);
        else problems.push(...this.check(schema, { [name]: facet }, `${where}.facets`, name));
      }
    }
    return problems;
  }

  /** The schema (id, or id#pointer) a facet is validated against, wrapped in its facet name. */
  private schemaOf(name: string, url: string | undefined, kind: 'run' | 'output' | 'other'): string | undefined {
    if (url?.startsWith('https://openlineage.io/spec/')) return url;
    if (name !== 'provenant' || kind === 'other') return undefined;
    return `${CUSTOM_FACETS_SCHEMA.$id}#/$defs/${kind === 'run' ? 'RunFlowFacet' : 'OutputFlowFacet'}`;
  }

  private check(schema: string, value: unknown, where: string, facetName?: string): string[] {
    const validate = this.ajv.getSchema(schema);
    if (!validate) return [`${where}: schema ${schema} is not vendored`];
    const target = facetName === undefined ? value : (value as Record<string, unknown>)[facetName];
    if (validate(target)) return [];
    return (validate.errors ?? []).map(
      (e) => `${where}${facetName ? `.${facetName}` : ''}${e.instancePath} ${e.message ?? ''} (${schema})`,
    );
  }
}
