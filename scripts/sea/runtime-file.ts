// Injected into the bundles that run from a file inside the unpacked runtime directory (the log
// worker): `import.meta.url` of every bundled module becomes its original path under that root,
// which is found from the bundle's own location (OWN_PATH, set by bundle.ts with `define`).

declare const __CNIDOCTOR_OWN_PATH__: string;

const depth = __CNIDOCTOR_OWN_PATH__.split("/").length - 1;
const ROOT = new URL("../".repeat(depth) || "./", import.meta.url);

export function __cnidoctorModuleUrl(relativePath: string): string {
  return new URL(relativePath, ROOT).href;
}
