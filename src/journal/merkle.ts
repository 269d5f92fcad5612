/**
 * RFC 9162 (Certificate Transparency v2) Merkle tree hashing, §2.1: leaf = SHA-256(0x00 ‖ data),
 * node = SHA-256(0x01 ‖ left ‖ right), MTH splits n leaves at the largest power of two < n.
 * Inclusion (§2.1.3) and consistency (§2.1.4) proofs are generated from a list of leaf hashes
 * and verified from hashes alone, so a witness holding only a checkpoint can check them.
 */
import { hash } from 'node:crypto';

export type Hash = Buffer;

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = hash('sha256', '', 'buffer');

/** Leaf hash; a string is hashed as its UTF-8 bytes (the 0x00 prefix encodes as one 0x00 byte). */
export function leafHash(data: string | Uint8Array): Hash {
  if (typeof data === 'string') return hash('sha256', '\u0000' + data, 'buffer');
  const bytes = Buffer.allocUnsafe(data.length + 1);
  bytes[0] = 0;
  bytes.set(data, 1);
  return hash('sha256', bytes, 'buffer');
}

// Reused for every interior node: hashing copies its input, and this module is synchronous.
const scratch = Buffer.alloc(65);
scratch[0] = 1;

export function nodeHash(left: Hash, right: Hash): Hash {
  left.copy(scratch, 1);
  right.copy(scratch, 33);
  return hash('sha256', scratch, 'buffer');
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
function split(n: number): number {
  return 2 ** Math.floor(Math.log2(n - 1));
}

/** MTH(D[n]) of leaf hashes. */
export function rootOf(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return nodeHash(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}

/** PATH(m, D[n]): the audit path of leaf `index` (§2.1.3.1). */
export function inclusionProof(index: number, leaves: readonly Hash[]): Hash[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
    throw new RangeError(`leaf ${index} not in a tree of ${leaves.length}`);
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return index < k
    ? [...inclusionProof(index, leaves.slice(0, k)), rootOf(leaves.slice(k))]
    : [...inclusionProof(index - k, leaves.slice(k)), rootOf(leaves.slice(0, k))];
}

/** PROOF(m, D[n]): shows the tree of the first m leaves is a prefix of the tree of n (§2.1.4.1). */
export function consistencyProof(first: number, leaves: readonly Hash[]): Hash[] {
  if (!Number.isInteger(first) || first < 0 || first > leaves.length)
    throw new RangeError(`size ${first} not within a tree of ${leaves.length}`);
  if (first === 0 || first === leaves.length) return [];
  return subproof(first, 0, leaves.length, true, (start, end) => rootOf(leaves.slice(start, end)));
}

/**
 * PROOF(m, D[n]) from the tree's peaks at size m and only the leaves after it: every node of the
 * proof lies either wholly before m (a fold of peaks) or wholly after it. What a log that keeps
 * no old leaves needs to answer a witness.
 */
export function consistencyProofFromPeaks(first: number, peaks: readonly Hash[], later: readonly Hash[]): Hash[] {
  if (first === 0 || later.length === 0) return [];
  return subproof(first, 0, first + later.length, true, nodeFromPeaks(first, peaks, later));
}

/**
 * PATH(index, D[n]) for a leaf at or after `first`, from the peaks at size `first` and the leaves
 * after it. What `prove` needs once retention deleted a log's first segments.
 */
export function inclusionProofFromPeaks(index: number, first: number, peaks: readonly Hash[], later: readonly Hash[]): Hash[] {
  const n = first + later.length;
  if (!Number.isInteger(index) || index < first || index >= n) throw new RangeError(`leaf ${index} not in [${first}, ${n})`);
  const node = nodeFromPeaks(first, peaks, later);
  const path = (m: number, start: number, end: number): Hash[] => {
    if (end - start === 1) return [];
    const k = split(end - start);
    return m < k ? [...path(m, start, start + k), node(start + k, end)] : [...path(m - k, start + k, end), node(start, start + k)];
  };
  return path(index, 0, n);
}

/** The hash of node [start, end) of a tree known by its peaks at `first` and the leaves after it. */
function nodeFromPeaks(first: number, peaks: readonly Hash[], later: readonly Hash[]): (start: number, end: number) => Hash {
  const ranges = peakRanges(first);
  if (ranges.length !== peaks.length) throw new RangeError(`${peaks.length} peaks do not describe a tree of ${first}`);
  const node = (start: number, end: number): Hash => {
    if (start >= first) return rootOf(later.slice(start - first, end - first));
    // A node across `first` is its two children's: its left child ends at a peak's end (MTH splits
    // at the largest power of two, and so do the peaks), so the recursion meets whole peaks only.
    if (end > first) {
      const k = split(end - start);
      return nodeHash(node(start, start + k), node(start + k, end));
    }
    const inside = ranges.flatMap((range, i) => (range.start >= start && range.end <= end ? [peaks[i]] : []));
    if (inside.length === 0) throw new RangeError(`node [${start}, ${end}) lies inside a peak of size ${first}`);
    let r = inside[inside.length - 1];
    for (let i = inside.length - 2; i >= 0; i--) r = nodeHash(inside[i], r);
    return r;
  };
  return node;
}

/** The leaf ranges of the perfect subtrees of a tree of n leaves, largest first. */
function peakRanges(n: number): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  let start = 0;
  for (let bit = 2 ** Math.floor(Math.log2(n)); bit >= 1; bit /= 2) {
    if (Math.floor(n / bit) % 2 === 1) {
      ranges.push({ start, end: start + bit });
      start += bit;
    }
  }
  return ranges;
}

/** SUBPROOF(m, D[start:end], complete), with `m` relative to start and nodes from `node`. */
function subproof(m: number, start: number, end: number, complete: boolean, node: (start: number, end: number) => Hash): Hash[] {
  const n = end - start;
  if (m === n) return complete ? [] : [node(start, end)];
  const k = split(n);
  return m <= k
    ? [...subproof(m, start, start + k, complete, node), node(start + k, end)]
    : [...subproof(m - k, start + k, end, false, node), node(start, start + k)];
}

/** §2.1.3.2. */
export function verifyInclusion(index: number, treeSize: number, leaf: Hash, proof: readonly Hash[], root: Hash): boolean {
  if (index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** §2.1.4.2, with the trivial cases (empty first tree, equal sizes) made explicit. */
export function verifyConsistency(first: number, second: number, firstRoot: Hash, secondRoot: Hash, proof: readonly Hash[]): boolean {
  if (first < 0 || first > second) return false;
  if (first === 0) return proof.length === 0;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * Incremental root of an append-only tree: keeps the roots of the perfect subtrees (one per set
 * bit of the size), so an append costs one leaf plus amortised one node hash and the root of the
 * current size costs at most log2(n) more. Equal to MTH for every size (left-balanced tree).
 */
export class MerkleAccumulator {
  private peakList: Hash[] = [];
  private count = 0;

  /** The tree of `size` leaves given by its peaks (a compact range); throws when they cannot describe it. */
  static fromPeaks(size: number, peaks: readonly Hash[]): MerkleAccumulator {
    if (!Number.isSafeInteger(size) || size < 0 || peakRanges(size).length !== peaks.length)
      throw new RangeError(`${peaks.length} peaks do not describe a tree of ${size}`);
    if (peaks.some((peak) => peak.length !== 32)) throw new RangeError('a peak is not a SHA-256 hash');
    const tree = new MerkleAccumulator();
    tree.peakList = [...peaks];
    tree.count = size;
    return tree;
  }

  get size(): number {
    return this.count;
  }

  push(leaf: Hash): void {
    let h = leaf;
    for (let s = this.count; s % 2 === 1; s = Math.floor(s / 2)) h = nodeHash(this.peakList.pop() as Hash, h);
    this.peakList.push(h);
    this.count++;
  }

  /** The perfect subtrees' roots, largest (leftmost) first: the tree's state at this size. */
  peaks(): Hash[] {
    return [...this.peakList];
  }

  root(): Hash {
    if (this.count === 0) return EMPTY_ROOT;
    let r = this.peakList[this.peakList.length - 1];
    for (let i = this.peakList.length - 2; i >= 0; i--) r = nodeHash(this.peakList[i], r);
    return r;
  }
}
