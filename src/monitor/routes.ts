/** Route patterns (`/missions/:M/launch`): a request path matches segment by segment and binds the parameters. */
import type { RouteSpec } from '../config/types.js';

export class Route {
  private readonly segments: readonly string[];
  readonly parameters: readonly string[];

  constructor(readonly spec: RouteSpec) {
    this.segments = spec.route.split('/');
    this.parameters = this.segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1));
  }

  /** The parameters a request binds, or undefined when it does not match. */
  match(method: string, path: string): Record<string, string> | undefined {
    if (this.spec.method !== '*' && this.spec.method !== method) return undefined;
    const parts = path.split('/');
    if (parts.length !== this.segments.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const segment = this.segments[i];
      const part = parts[i];
      if (segment.startsWith(':')) {
        if (part === '') return undefined;
        try {
          params[segment.slice(1)] = decodeURIComponent(part);
        } catch {
          return undefined;
        }
      } else if (segment !== part) return undefined;
    }
    return params;
  }
}

/** The path of a request target without its query (`/a/b?x=1` → `/a/b`). */
export function pathOf(target: string | undefined): string {
  const path = target ?? '/';
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}
