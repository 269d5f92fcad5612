/**
 * The one monkey-patcher: replaces properties of Node's module objects and prototypes, and puts
 * them back on disable. A wrapper keeps the original's name, length and symbol-keyed properties
 * (fs.read's custom promisify arguments, for one), so `util.promisify` and introspection behave
 * as before.
 *
 * Restore rule: a property is restored only while it still holds what we installed. When someone
 * patched it after us (an OpenTelemetry instrumentation, an APM agent), their patch stays: it
 * wraps ours, and putting our original back underneath it is not possible without clobbering it.
 */

/** A built-in function as the wrappers see it: called only through Reflect.apply. */
export type NativeFunction = (...args: never[]) => unknown;

export class Patcher {
  private readonly restores: (() => void)[] = [];

  /** Replace `target[name]` with `make(original)`; returns the original. */
  wrap<T extends object, K extends keyof T>(target: T, name: K, make: (original: T[K]) => T[K]): T[K] {
    const original = target[name];
    const wrapper = make(original);
    if (typeof original === 'function' && typeof wrapper === 'function') copyFunctionIdentity(original, wrapper);
    this.define(target, name, wrapper);
    return original;
  }

  /** `wrap` for loops over method names of a module object (fs): a missing method is skipped. */
  wrapMethod(target: object, name: string, make: (original: NativeFunction) => NativeFunction): void {
    const holder = target as Record<string, unknown>;
    const original = holder[name];
    if (typeof original !== 'function') return;
    this.wrap(holder, name, () => make(original as NativeFunction));
  }

  /** Set `target[name]`, remembering whether it was an own property so disable restores it exactly. */
  define<T extends object, K extends keyof T>(target: T, name: K, value: T[K]): void {
    const own = Object.getOwnPropertyDescriptor(target, name);
    Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: own?.enumerable ?? false });
    this.restores.push(() => {
      if (Object.getOwnPropertyDescriptor(target, name)?.value !== value) return;
      if (own) Object.defineProperty(target, name, own);
      else Reflect.deleteProperty(target, name);
    });
  }

  /**
   * Replace `target[name]` with `wrapper` for the life of the process: the property becomes a
   * non-configurable accessor, so it can be neither redefined nor deleted, and assigning it on
   * `target` itself has no effect; assigning it on an object that inherits it (`socket.write =
   * ...`, which Node's own net.js does) defines an own property there, as a writable property
   * would. `restoreAll` cannot undo this: the wrapper must turn inert on disable by itself.
   */
  lock<T extends object, K extends keyof T & string>(target: T, name: K, wrapper: T[K]): void {
    const original = target[name];
    if (typeof original === 'function' && typeof wrapper === 'function') copyFunctionIdentity(original, wrapper);
    const enumerable = Object.getOwnPropertyDescriptor(target, name)?.enumerable ?? false;
    Object.defineProperty(target, name, {
      configurable: false,
      enumerable,
      get: () => wrapper,
      set(this: unknown, value: unknown) {
        if (this === target || typeof this !== 'object' || this === null) return;
        Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
      },
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

function copyFunctionIdentity(original: object, wrapper: object): void {
  const named = original as { name: string; length: number };
  Object.defineProperty(wrapper, 'name', { value: named.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: named.length, configurable: true });
  for (const key of Object.getOwnPropertySymbols(original)) {
    const descriptor = Object.getOwnPropertyDescriptor(original, key);
    if (descriptor) Object.defineProperty(wrapper, key, descriptor);
  }
}
