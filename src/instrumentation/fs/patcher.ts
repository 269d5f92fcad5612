/**
 * Replaces methods on Node's module objects and prototypes and puts the originals back on
 * disable. A wrapper keeps the original's name, length and symbol-keyed properties (fs.read's
 * custom promisify arguments, for one), so `util.promisify` and introspection behave as before.
 */

/** A built-in function as the wrappers see it: called only through Reflect.apply. */
export type NativeFunction = (...args: never[]) => unknown;

export class Patcher {
  private readonly restores: (() => void)[] = [];

  wrap(target: object, name: string, makeWrapper: (original: NativeFunction) => NativeFunction): void {
    const holder = target as Record<string, unknown>;
    const original = holder[name];
    if (typeof original !== 'function') return;
    const wrapper = makeWrapper(original as NativeFunction);
    Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
    for (const key of Object.getOwnPropertySymbols(original)) {
      const descriptor = Object.getOwnPropertyDescriptor(original, key);
      if (descriptor) Object.defineProperty(wrapper, key, descriptor);
    }
    holder[name] = wrapper;
    this.restores.push(() => {
      // Leave a later patch by someone else in place rather than clobbering it.
      if (holder[name] === wrapper) holder[name] = original;
    });
  }

  restoreAll(): void {
    for (const restore of this.restores.splice(0).reverse()) restore();
  }
}
