// RFC 9162 Merkle hashing, checked against hashes composed by hand (SHA-256 with the 0x00/0x01
// prefixes written out here), never against the implementation's own recursion.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  inclusionProofFromPeaks,
  leafHash,
  MerkleAccumulator,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/journal/merkle.js';

const sha = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const L = (s: string): Buffer => sha(Buffer.from([0]), Buffer.from(s));
const N = (l: Buffer, r: Buffer): Buffer => sha(Buffer.from([1]), l, r);

const data = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'];
const l = data.map(L);
const [l0, l1, l2, l3, l4, l5, l6, l7] = l as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
const h01 = N(l0, l1);
const h23 = N(l2, l3);
const h45 = N(l4, l5);
const h67 = N(l6, l7);
const h03 = N(h01, h23);
const h47 = N(h45, h67);

// MTH for n = 1..8, written as the RFC's split at the largest power of two below n.
const expectedRoots: Buffer[] = [l0, h01, N(h01, l2), h03, N(h03, l4), N(h03, h45), N(h03, N(h45, l6)), N(h03, h47)];

const hex = (hs: Buffer[]): string[] => hs.map((h) => h.toString('hex'));

describe('merkle hashing', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    expect(leafHash('d0').equals(l0)).toBe(true);
    expect(leafHash(Buffer.from('d0')).equals(l0)).toBe(true);
    expect(nodeHash(l0, l1).equals(h01)).toBe(true);
    expect(EMPTY_ROOT.equals(sha())).toBe(true);
  });

  it('computes MTH for n = 0..8, in one go and incrementally', () => {
    expect(rootOf([]).equals(EMPTY_ROOT)).toBe(true);
    const acc = new MerkleAccumulator();
    expect(acc.root().equals(EMPTY_ROOT)).toBe(true);
    for (let n = 1; n <= 8; n++) {
      acc.push(l[n - 1]);
      expect(rootOf(l.slice(0, n)).toString('hex'), `n=${n}`).toBe(expectedRoots[n - 1].toString('hex'));
      expect(acc.root().toString('hex'), `acc n=${n}`).toBe(expectedRoots[n - 1].toString('hex'));
      expect(acc.size).toBe(n);
    }
  });
});

describe('inclusion proofs', () => {
  // Audit paths by hand: siblings from the leaf up.
  const cases: [number, number, Buffer[]][] = [
    [0, 1, []],
    [0, 2, [l1]],
    [1, 2, [l0]],
    [2, 3, [h01]],
    [0, 3, [l1, l2]],
    [3, 4, [l2, h01]],
    [4, 5, [h03]],
    [2, 5, [l3, h01, l4]],
    [5, 6, [l4, h03]],
    [6, 7, [h45, h03]],
    [4, 7, [l5, l6, h03]],
    [0, 8, [l1, h23, h47]],
    [5, 8, [l4, h67, h03]],
    [7, 8, [l6, h45, h03]],
  ];

  it.each(cases)('leaf %i of %i', (index, size, path) => {
    const leaves = l.slice(0, size);
    expect(hex(inclusionProof(index, leaves))).toEqual(hex(path));
    expect(verifyInclusion(index, size, l[index], path, expectedRoots[size - 1])).toBe(true);
  });

  it('rejects a wrong leaf, index, size or path', () => {
    const path = [l4, h67, h03];
    const root = expectedRoots[7];
    expect(verifyInclusion(5, 8, l4, path, root)).toBe(false);
    expect(verifyInclusion(4, 8, l5, path, root)).toBe(false);
    // The size's path shape differs only at a level where 7 and 8 agree, so the root decides.
    expect(verifyInclusion(5, 7, l5, path, expectedRoots[6])).toBe(false);
    expect(verifyInclusion(5, 6, l5, path, root)).toBe(false);
    expect(verifyInclusion(5, 8, l5, [l4, h67], root)).toBe(false);
    expect(verifyInclusion(5, 8, l5, [...path, h01], root)).toBe(false);
    expect(verifyInclusion(8, 8, l5, path, root)).toBe(false);
  });

  it('verifies every leaf of every tree up to 8', () => {
    for (let size = 1; size <= 8; size++) {
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, l.slice(0, size));
        expect(verifyInclusion(index, size, l[index], proof, expectedRoots[size - 1])).toBe(true);
      }
    }
  });
});

describe('consistency proofs', () => {
  // Proofs by hand (RFC 9162 §2.1.4.1 SUBPROOF).
  const cases: [number, number, Buffer[]][] = [
    [1, 2, [l1]],
    [1, 8, [l1, h23, h47]],
    [2, 3, [l2]],
    [2, 8, [h23, h47]],
    [3, 4, [l2, l3, h01]],
    [3, 7, [l2, l3, h01, N(h45, l6)]],
    [4, 6, [h45]],
    [4, 8, [h47]],
    [5, 7, [l4, l5, l6, h03]],
    [6, 8, [h45, h67, h03]],
    [7, 8, [l6, l7, h45, h03]],
  ];

  it.each(cases)('from %i to %i', (first, second, proof) => {
    expect(hex(consistencyProof(first, l.slice(0, second)))).toEqual(hex(proof));
    expect(verifyConsistency(first, second, expectedRoots[first - 1], expectedRoots[second - 1], proof)).toBe(true);
  });

  it('accepts the trivial cases and rejects forged ones', () => {
    expect(consistencyProof(0, l)).toEqual([]);
    expect(consistencyProof(8, l)).toEqual([]);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, expectedRoots[7], [])).toBe(true);
    expect(verifyConsistency(8, 8, expectedRoots[7], expectedRoots[7], [])).toBe(true);
    expect(verifyConsistency(8, 8, expectedRoots[7], expectedRoots[6], [])).toBe(false);
    // A tree of 6 whose 5th leaf was rewritten is not an extension of the tree of 5.
    const forged = N(h03, N(L('x'), l5));
    expect(verifyConsistency(5, 6, expectedRoots[4], forged, consistencyProof(5, l.slice(0, 6)))).toBe(false);
    expect(verifyConsistency(3, 7, expectedRoots[2], expectedRoots[6], [l2, l3, h01])).toBe(false);
    expect(verifyConsistency(3, 7, expectedRoots[2], expectedRoots[6], [])).toBe(false);
  });

  it('verifies every pair of sizes up to 8', () => {
    for (let second = 1; second <= 8; second++) {
      for (let first = 1; first <= second; first++) {
        const proof = consistencyProof(first, l.slice(0, second));
        expect(verifyConsistency(first, second, expectedRoots[first - 1], expectedRoots[second - 1], proof), `${first}->${second}`).toBe(
          true,
        );
      }
    }
  });
});

describe('a tree known by its peaks (what is left after retention)', () => {
  it('goes on from its peaks to the same roots as the whole tree', () => {
    for (let first = 0; first <= 8; first++) {
      const whole = new MerkleAccumulator();
      for (const leaf of l.slice(0, first)) whole.push(leaf);
      const resumed = MerkleAccumulator.fromPeaks(first, whole.peaks());
      for (let n = first; n < 8; n++) {
        expect(resumed.root().toString('hex'), `${first}->${n}`).toBe(
          n === 0 ? EMPTY_ROOT.toString('hex') : expectedRoots[n - 1].toString('hex'),
        );
        resumed.push(l[n]);
      }
      expect(resumed.root()).toEqual(expectedRoots[7]);
    }
  });

  it('refuses peaks that cannot describe the size', () => {
    expect(() => MerkleAccumulator.fromPeaks(6, [h03])).toThrow(/1 peaks do not describe a tree of 6/);
    expect(() => MerkleAccumulator.fromPeaks(4, [h03.subarray(0, 31)])).toThrow(/not a SHA-256 hash/);
  });

  it('gives the inclusion proofs of the whole tree for every leaf after the pruned ones', () => {
    for (let first = 0; first < 8; first++) {
      const peaks = MerkleAccumulator.fromPeaks(0, []);
      for (const leaf of l.slice(0, first)) peaks.push(leaf);
      for (let n = first + 1; n <= 8; n++) {
        for (let index = first; index < n; index++) {
          const proof = inclusionProofFromPeaks(index, first, peaks.peaks(), l.slice(first, n));
          expect(hex(proof), `${index} of ${n} after ${first}`).toEqual(hex(inclusionProof(index, l.slice(0, n))));
          expect(verifyInclusion(index, n, l[index], proof, expectedRoots[n - 1])).toBe(true);
        }
      }
      if (first > 0) expect(() => inclusionProofFromPeaks(first - 1, first, peaks.peaks(), l.slice(first))).toThrow(RangeError);
    }
  });
});
