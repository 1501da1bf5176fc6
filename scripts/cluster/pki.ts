// The cluster's own certificate authority and keys, made with openssl. One CA signs:
//   - the apiserver's serving cert (SANs for 127.0.0.1/localhost/kubernetes.default...),
//   - an admin client cert (O=system:masters) used by the harness, KCM, scheduler and kwok,
//   - the kubelet gateway's serving cert (what the apiserver sees when it "dials a kubelet").
// Plus the service-account signing key pair. Everything lives in <state>/pki and dies with the cluster.
// Keys are ECDSA P-256: generating five RSA-2048 keys took 1-4 s of each `up` on a busy 2-core
// machine (more with several clusters starting at once), P-256 keys a few milliseconds.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  gatewayCert: string;
  gatewayKey: string;
  saKey: string;
  saPub: string;
}

export function pkiPaths(stateDir: string): Pki {
  const dir = join(stateDir, "pki");
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    serverCert: join(dir, "apiserver.crt"),
    serverKey: join(dir, "apiserver.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    gatewayCert: join(dir, "kubelet-gateway.crt"),
    gatewayKey: join(dir, "kubelet-gateway.key"),
    saKey: join(dir, "sa.key"),
    saPub: join(dir, "sa.pub"),
  };
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function issue(pki: Pki, name: string, subject: string, extensions: string): void {
  const key = join(pki.dir, `${name}.key`);
  const csr = join(pki.dir, `${name}.csr`);
  const ext = join(pki.dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(pki.dir, [
    "req",
    "-newkey",
    "ec",
    ...P256,
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    subject,
  ]);
  openssl(pki.dir, [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    pki.caCert,
    "-CAkey",
    pki.caKey,
    "-CAcreateserial",
    "-out",
    join(pki.dir, `${name}.crt`),
    "-days",
    "3650",
    "-extfile",
    ext,
  ]);
}

const P256 = ["-pkeyopt", "ec_paramgen_curve:prime256v1"];

const LEAF = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n";

/** Creates the PKI unless a complete one is already there (a re-run of `up` keeps its kubeconfig valid). */
export function ensurePki(stateDir: string): Pki {
  const pki = pkiPaths(stateDir);
  const all = [pki.caCert, pki.serverCert, pki.adminCert, pki.gatewayCert, pki.saKey, pki.saPub];
  if (all.every((f) => existsSync(f))) return pki;
  mkdirSync(pki.dir, { recursive: true });
  openssl(pki.dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    ...P256,
    "-nodes",
    "-keyout",
    pki.caKey,
    "-out",
    pki.caCert,
    "-days",
    "3650",
    "-subj",
    "/CN=cnidoctor-test-ca",
  ]);
  const serverSans =
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc," +
    "DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.43.0.1";
  issue(
    pki,
    "apiserver",
    "/CN=kube-apiserver",
    `${LEAF}extendedKeyUsage=serverAuth\nsubjectAltName=${serverSans}\n`,
  );
  issue(
    pki,
    "admin",
    "/O=system:masters/CN=cnidoctor-admin",
    `${LEAF}extendedKeyUsage=clientAuth,serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`,
  );
  issue(
    pki,
    "kubelet-gateway",
    "/CN=kubelet",
    `${LEAF}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`,
  );
  openssl(pki.dir, ["genpkey", "-algorithm", "EC", ...P256, "-out", pki.saKey]);
  openssl(pki.dir, ["pkey", "-in", pki.saKey, "-pubout", "-out", pki.saPub]);
  return pki;
}

/** A kubeconfig with the admin client cert embedded, so it works from any working directory. */
export function writeKubeconfig(
  path: string,
  pki: Pki,
  apiPort: number,
  readFile: (f: string) => Buffer,
): void {
  const b64 = (f: string): string => readFile(f).toString("base64");
  const text = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: cnidoctor",
    "  cluster:",
    `    server: https://127.0.0.1:${apiPort}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    "users:",
    "- name: cnidoctor-admin",
    "  user:",
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    "contexts:",
    "- name: cnidoctor",
    "  context: {cluster: cnidoctor, user: cnidoctor-admin}",
    "current-context: cnidoctor",
    "",
  ].join("\n");
  writeFileSync(path, text, { mode: 0o600 });
}
