/**
 * The one marker helper: makes `instanceof Cls` (and `Cls.is(e)`) true for instances created by any
 * copy of the class, including a duplicate install of the same package in another `node_modules`
 * (an SDK bundled into an application, two versions side by side). The marker is a registered
 * symbol, `Symbol.for('livescope.error:<name>')`, set on the class's prototype, and the class answers
 * `instanceof` by looking for it. Written once here; every error class calls it once.
 */
export function markErrorClass(cls: abstract new (...args: never[]) => Error, name: string): void {
  const marker = Symbol.for(`livescope.error:${name}`);
  Object.defineProperty(cls.prototype, marker, { value: true, enumerable: false });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value: (x: unknown): boolean => typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[marker] === true,
  });
}
