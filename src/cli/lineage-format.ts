/** Renders a lineage graph as text, Graphviz DOT or a Mermaid flowchart. */
import type { PublicLabels } from '../provenance/labels.js';
import type { Lineage } from '../journal/lineage.js';

export function formatLabels(labels: PublicLabels | null): string {
  if (!labels) return 'unlabeled';
  const parts = [labels.confidentiality, labels.integrity];
  if (labels.tags.length > 0) parts.push(`tags=${labels.tags.join(',')}`);
  if (labels.locations.length > 0) parts.push(`loc=${labels.locations.join(',')}`);
  return parts.join(' ');
}

export function toText(lineage: Lineage): string {
  const lines = [`${lineage.direction} lineage of ${lineage.resource}`];
  if (lineage.nodes.length === 0) return lines.concat('  (no flows recorded for it)').join('\n');
  lines.push('', 'resources:');
  for (const node of lineage.nodes) lines.push(`  ${node.resource}  [${formatLabels(node.labels)}]`);
  lines.push('', 'flows:');
  if (lineage.edges.length === 0) lines.push('  (none)');
  for (const edge of lineage.edges)
    lines.push(`  ${edge.from} -> ${edge.to}  (${edge.time} ${edge.service}${edge.traceId ? ` trace ${edge.traceId}` : ''})`);
  return lines.join('\n');
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function toDot(lineage: Lineage): string {
  const lines = ['digraph lineage {', '  rankdir=LR;', '  node [shape=box];'];
  for (const node of lineage.nodes) {
    const attrs = [`label=${dotString(`${node.resource}\n${formatLabels(node.labels)}`)}`];
    if (node.resource === lineage.resource) attrs.push('style=bold');
    lines.push(`  ${dotString(node.resource)} [${attrs.join(', ')}];`);
  }
  for (const edge of lineage.edges) lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)} [label=${dotString(edge.service)}];`);
  lines.push('}');
  return lines.join('\n');
}

/** Mermaid ids must be plain words, so nodes are numbered and the URI goes in the quoted text. */
export function toMermaid(lineage: Lineage): string {
  const ids = new Map(lineage.nodes.map((node, i) => [node.resource, `n${i}`]));
  const text = (value: string): string => value.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const node of lineage.nodes)
    lines.push(`  ${ids.get(node.resource)}["${text(node.resource)}<br/>${text(formatLabels(node.labels))}"]`);
  for (const edge of lineage.edges) lines.push(`  ${ids.get(edge.from)} -->|${text(edge.service)}| ${ids.get(edge.to)}`);
  return lines.join('\n');
}
