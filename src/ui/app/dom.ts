/** Building DOM from journal text: always through textContent, never HTML, so no record can inject markup. */
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

export function clear(element: Element, ...children: Child[]): void {
  element.replaceChildren(...children.filter((c): c is Node | string => Boolean(c)));
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path);
  const body = (await response.json()) as T | { error: string };
  if (!response.ok) throw new Error((body as { error: string }).error);
  return body as T;
}

/** A link to the trace when a trace URL template was given, else the id as text. */
export function traceLink(traceId: string | null | undefined, template: string | null): Node | string {
  if (!traceId) return '—';
  if (!template) return traceId;
  return h('a', { href: template.replace('{traceId}', encodeURIComponent(traceId)), target: '_blank', rel: 'noopener' }, traceId);
}

export function labelText(labels: { confidentiality: string; integrity: string; tags: string[]; locations: string[] } | null): string {
  if (!labels) return 'unlabeled';
  return [labels.confidentiality, labels.integrity, ...labels.tags.map((t) => `#${t}`), ...labels.locations.map((l) => `@${l}`)].join(' ');
}
