/**
 * A journal opened by its first record. Worker threads (and Node's module-hooks thread) run
 * provenant too; one that never records a flow leaves no segment behind, where an eagerly opened
 * writer would leave an empty log per thread.
 */
import type { JournalWriter } from './writer.js';

export function openOnFirstRecord(open: () => JournalWriter): JournalWriter {
  let writer: JournalWriter | undefined;
  let closed = false;
  let lostAfterClose = 0;
  return {
    append(record) {
      if (closed && writer === undefined) {
        lostAfterClose++;
        return;
      }
      (writer ??= open()).append(record);
    },
    flushSync() {
      writer?.flushSync();
    },
    close() {
      closed = true;
      writer?.close();
    },
    checkpoint() {
      return (writer ??= open()).checkpoint();
    },
    get origin() {
      return writer?.origin;
    },
    get lostRecords() {
      return (writer?.lostRecords ?? 0) + lostAfterClose;
    },
  };
}
