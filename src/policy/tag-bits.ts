/**
 * Tags as bitsets: every tag the config mentions gets one bit, so "data has any/all of these
 * tags" is a few word-wide ANDs. Tags the config never mentions cannot affect a decision and
 * get no bit.
 */
export type TagMask = Uint32Array;

export class TagBits {
  private readonly bits = new Map<string, number>();
  private frozenWords = 0;

  register(tag: string): void {
    if (this.frozenWords > 0) throw new Error('TagBits: register() after the first mask');
    if (!this.bits.has(tag)) this.bits.set(tag, this.bits.size);
  }

  get words(): number {
    return this.frozenWords || Math.max(1, Math.ceil(this.bits.size / 32));
  }

  mask(tags: Iterable<string>): TagMask {
    if (this.frozenWords === 0) this.frozenWords = this.words;
    const mask = new Uint32Array(this.frozenWords);
    for (const tag of tags) {
      const bit = this.bits.get(tag);
      if (bit !== undefined) mask[bit >>> 5] |= 1 << (bit & 31);
    }
    return mask;
  }
}

export function intersects(a: TagMask, b: TagMask): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] & b[i]) !== 0) return true;
  return false;
}

export function containsAll(have: TagMask, need: TagMask): boolean {
  for (let i = 0; i < have.length; i++) if ((have[i] & need[i]) !== need[i]) return false;
  return true;
}
