/**
 * The export worker's progress, in memory shared with the app's thread: the app's 'exit'
 * handler cannot receive messages, yet must know whether the worker has started and how many
 * spans the collector has confirmed, to wait only as long as needed and to report what was lost.
 */
const STATE = 0;
const EXPORTED = 1;
const FAILED = 2;
const CELLS = 3;

const STARTING = 0;
const READY = 1;
const BROKEN = 2;

export type WorkerState = 'starting' | 'ready' | 'broken';

export class ExportStatus {
  /** Pass `cells` to the worker (workerData): both sides then see the same memory. */
  readonly cells: Int32Array<SharedArrayBuffer>;

  constructor(cells?: Int32Array<SharedArrayBuffer>) {
    this.cells = cells ?? new Int32Array(new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT));
  }

  /** Worker: the exporter and its transport are loaded; exports can start at once. */
  markReady(): void {
    this.setState(READY);
  }

  /** Worker: no exporter could be made; nothing will be exported. */
  markBroken(): void {
    this.setState(BROKEN);
  }

  /** Worker: the collector confirmed `spans` spans. */
  countExported(spans: number): void {
    Atomics.add(this.cells, EXPORTED, spans);
  }

  /** Worker: `spans` spans could not be exported (refused, unreachable, timed out). */
  countFailed(spans: number): void {
    Atomics.add(this.cells, FAILED, spans);
  }

  get state(): WorkerState {
    return stateName(Atomics.load(this.cells, STATE));
  }

  get exported(): number {
    return Atomics.load(this.cells, EXPORTED);
  }

  get failed(): number {
    return Atomics.load(this.cells, FAILED);
  }

  /** App thread: blocks until the worker is ready or broken, at most `timeoutMs`. */
  waitWhileStarting(timeoutMs: number): WorkerState {
    Atomics.wait(this.cells, STATE, STARTING, timeoutMs);
    return this.state;
  }

  private setState(state: number): void {
    Atomics.store(this.cells, STATE, state);
    Atomics.notify(this.cells, STATE);
  }
}

function stateName(value: number): WorkerState {
  if (value === READY) return 'ready';
  if (value === BROKEN) return 'broken';
  return 'starting';
}
