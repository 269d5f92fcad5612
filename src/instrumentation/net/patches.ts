/** Reversible monkey-patching: every replaced property is put back (or removed) on disable. */
export class Patches {
  private readonly restores: (() => void)[] = [];

  /** Replace `target[name]` with `make(original)`; returns the original. */
  wrap<T extends object, K extends keyof T>(target: T, name: K, make: (original: T[K]) => T[K]): T[K] {
    const original = target[name];
    this.define(target, name, make(original));
    return original;
  }

  /** Set `target[name]`, remembering whether it was an own property so disable restores it exactly. */
  define<T extends object, K extends keyof T>(target: T, name: K, value: T[K]): void {
    const own = Object.getOwnPropertyDescriptor(target, name);
    Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: own?.enumerable ?? false });
    this.restores.push(() => {
      if (own) Object.defineProperty(target, name, own);
      else delete target[name];
    });
  }

  /** Run `restore` on disable (for state that is not a plain property, e.g. a channel subscription). */
  onRestore(restore: () => void): void {
    this.restores.push(restore);
  }

  restoreAll(): void {
    for (const restore of this.restores.splice(0).reverse()) restore();
  }
}
