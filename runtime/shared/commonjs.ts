// A CommonJS package loaded on first use with `import()`. Run from the sources (tsx, Node's own
// loader) its functions are named exports; in the runtime bundle (esbuild emits the package as a
// chunk of out/runtime) they arrive on the module's default export only. Both shapes, one answer.

/** The package's exports, whichever shape `import()` gave them in; `probe` is an export it must have. */
export function commonJsExports<T extends object>(loaded: T, probe: keyof T): T {
  if (loaded[probe] !== undefined) return loaded;
  const fallback = (loaded as { default?: T }).default;
  if (fallback?.[probe] === undefined) throw new Error(`A lazily loaded package has no export '${String(probe)}'.`);
  return fallback;
}
