// `provenant lineage --json` as an indented tree. The journal records, for every write, all the
// sources its data derives from, transitive ones included; the tree keeps only the nearest ones
// (an edge is dropped when the source also feeds another source of the same node), so each
// source appears under the resource it was actually read from.
// (`provenant lineage` already treats network endpoints as leaves.)

/**
 * The upstream tree of `lineage.resource`: its printable `lines` (`describe(uri)` names a node)
 * and the `depth` of every node in it, in hops from the root.
 */
export function lineageTree(lineage, describe) {
  const sources = new Map();
  for (const { from, to } of lineage.edges) {
    if (from === to) continue;
    if (!sources.has(to)) sources.set(to, new Set());
    sources.get(to).add(from);
  }
  const ancestors = memo((uri, self) => {
    const all = new Set();
    for (const source of sources.get(uri) ?? []) {
      all.add(source);
      for (const above of self(source)) all.add(above);
    }
    return all;
  });
  const nearest = (uri) => {
    const direct = [...(sources.get(uri) ?? [])];
    return direct.filter((source) => !direct.some((other) => other !== source && ancestors(other).has(source))).sort();
  };

  const lines = [describe(lineage.resource)];
  const depth = new Map([[lineage.resource, 0]]);
  const walk = (uri, indent, path) => {
    const children = nearest(uri);
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      const cycle = path.has(child);
      if (!depth.has(child)) depth.set(child, path.size);
      lines.push(`${indent}${last ? '└─ ' : '├─ '}${describe(child)}${cycle ? ' (cycle)' : ''}`);
      if (!cycle) walk(child, indent + (last ? '   ' : '│  '), new Set([...path, child]));
    });
  };
  walk(lineage.resource, '', new Set([lineage.resource]));
  return { lines, depth };
}

function memo(fn) {
  const cache = new Map();
  const self = (key) => {
    if (!cache.has(key)) {
      cache.set(key, new Set()); // cycle guard
      cache.set(key, fn(key, self));
    }
    return cache.get(key);
  };
  return self;
}
