// A coordination.k8s.io Lease as a mutual-exclusion lock with a TTL: create it, or take it over
// only when the holder's renewTime + leaseDurationSeconds has passed. Optimistic concurrency
// (resourceVersion) makes the take-over race-free: of two writers, one gets a 409.

/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node types its request bodies as generated classes; the API takes plain JSON, which is what
   these objects are (the serializer reads fields, not prototypes). */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";

export class LeaseHeldError extends Error {
  constructor(
    readonly holder: string,
    readonly until: Date | undefined,
    where: string,
  ) {
    super(
      `another run holds Lease ${where} (holder ${holder}${until !== undefined ? `, until ${until.toISOString()}` : ""}); not starting`,
    );
  }
}

const code = (e: unknown): unknown =>
  typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;

export class Lease {
  private current: V1Lease | undefined;
  private readonly api: CoordinationV1Api;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    readonly name: string,
    readonly holder: string,
    readonly ttlSeconds: number,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  private spec(now: Date): V1Lease["spec"] {
    return {
      holderIdentity: this.holder,
      leaseDurationSeconds: this.ttlSeconds,
      acquireTime: new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
    };
  }

  private held(lease: V1Lease, now: Date): LeaseHeldError | undefined {
    const holder = lease.spec?.holderIdentity;
    if (holder === undefined || holder === "" || holder === this.holder) return undefined;
    const renew = lease.spec?.renewTime;
    const ttl = lease.spec?.leaseDurationSeconds ?? 0;
    const until = renew !== undefined ? new Date(new Date(renew).getTime() + ttl * 1000) : undefined;
    if (until !== undefined && until.getTime() <= now.getTime()) return undefined;
    return new LeaseHeldError(holder, until, `${this.namespace}/${this.name}`);
  }

  /** Read-only: throws LeaseHeldError when another holder's Lease is still valid. */
  async check(now: Date): Promise<void> {
    try {
      const existing = await this.api.readNamespacedLease({ namespace: this.namespace, name: this.name });
      const held = this.held(existing, now);
      if (held) throw held;
    } catch (e) {
      if (code(e) !== 404) throw e;
    }
  }

  async acquire(now: Date): Promise<void> {
    try {
      this.current = await this.api.createNamespacedLease({
        namespace: this.namespace,
        body: {
          metadata: {
            name: this.name,
            namespace: this.namespace,
            labels: { "app.kubernetes.io/managed-by": "cnidoctor" },
          },
          spec: this.spec(now),
        },
      });
      return;
    } catch (e) {
      if (code(e) !== 409) throw e;
    }
    const existing = await this.api.readNamespacedLease({ namespace: this.namespace, name: this.name });
    const held = this.held(existing, now);
    if (held) throw held;
    try {
      this.current = await this.api.replaceNamespacedLease({
        namespace: this.namespace,
        name: this.name,
        body: { ...existing, spec: this.spec(now) },
      });
    } catch (e) {
      if (code(e) === 409)
        throw new LeaseHeldError("a concurrent run", undefined, `${this.namespace}/${this.name}`);
      throw e;
    }
  }

  async renew(now: Date): Promise<void> {
    if (this.current === undefined) throw new Error("lease not held");
    this.current = await this.api.replaceNamespacedLease({
      namespace: this.namespace,
      name: this.name,
      body: { ...this.current, spec: { ...this.current.spec, renewTime: new V1MicroTime(now) } },
    });
  }

  /** Deletes the Lease if we still hold it (resourceVersion precondition). */
  async release(): Promise<void> {
    const rv = this.current?.metadata?.resourceVersion;
    if (rv === undefined) return;
    this.current = undefined;
    try {
      await this.api.deleteNamespacedLease({
        namespace: this.namespace,
        name: this.name,
        body: { preconditions: { resourceVersion: rv } },
      });
    } catch (e) {
      if (code(e) !== 404 && code(e) !== 409) throw e;
    }
  }
}
