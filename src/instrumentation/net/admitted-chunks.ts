/**
 * The chunks of one socket allowed where they entered (`write`/`end`, with the writer's context)
 * that Node has not handed to its `_writeGeneric` yet, oldest first (socket-writes.ts). A write
 * Node passes straight down is added and taken within the same call, so the slots are reused in
 * place (head and tail indices, no shifting or truncating) and a steady stream of writes
 * allocates nothing here.
 */
export class AdmittedChunks {
  private readonly slots: unknown[] = [];
  private head = 0;
  private tail = 0;

  add(chunk: unknown): void {
    this.slots[this.tail++] = chunk;
  }

  /** Admits what `_writeGeneric` is given (see `take`). */
  addAll(writev: boolean, data: unknown): void {
    for (let i = 0; i < chunkCount(writev, data); i++) this.add(chunkAt(writev, data, i));
  }

  /**
   * Whether what `_writeGeneric(writev, data)` is given (one chunk, or `_writev`'s entries) was
   * admitted, in order; taken off when `take`.
   * Chunks ahead of a match were dropped by Node (the socket failed before flushing them) or
   * taken by the app writing the same chunk itself, and are forgotten.
   */
  take(writev: boolean, data: unknown, take: boolean): boolean {
    let at = this.head;
    for (let i = 0; i < chunkCount(writev, data); i++) {
      const chunk = chunkAt(writev, data, i);
      while (at < this.tail && this.slots[at] !== chunk) at++;
      if (at === this.tail) return false;
      at++;
    }
    if (!take) return true;
    // Released as taken: a large chunk is not kept alive by its socket.
    for (let i = this.head; i < at; i++) this.slots[i] = undefined;
    if (at === this.tail) this.head = this.tail = 0;
    else this.head = at;
    return true;
  }
}

function chunkCount(writev: boolean, data: unknown): number {
  return writev && Array.isArray(data) ? data.length : 1;
}

function chunkAt(writev: boolean, data: unknown, i: number): unknown {
  return writev && Array.isArray(data) ? (data[i] as { chunk?: unknown } | null)?.chunk : data;
}
