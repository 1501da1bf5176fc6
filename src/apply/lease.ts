// A coordination.k8s.io Lease as a mutual-exclusion lock with a TTL: create it, or take it over
// only when the holder's renewTime + leaseDurationSeconds has passed. Optimistic concurrency
// (resourceVersion) makes the take-over race-free: of two writers, one gets a 409.

import type { ApiResult, KubeClient, Obj } from "../kube/client.js";

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

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
}

interface LeaseObject extends Obj {
  metadata?: { resourceVersion?: string } & Obj;
  spec?: LeaseSpec;
}

/** A MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class Lease {
  private current: LeaseObject | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
    readonly name: string,
    readonly holder: string,
    readonly ttlSeconds: number,
  ) {}

  private get collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`;
  }

  private get path(): string {
    return `${this.collection}/${encodeURIComponent(this.name)}`;
  }

  private spec(now: Date): LeaseSpec {
    return {
      holderIdentity: this.holder,
      leaseDurationSeconds: this.ttlSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
    };
  }

  private held(lease: LeaseObject, now: Date): LeaseHeldError | undefined {
    const holder = lease.spec?.holderIdentity;
    if (holder === undefined || holder === "" || holder === this.holder) return undefined;
    const renew = lease.spec?.renewTime;
    const ttl = lease.spec?.leaseDurationSeconds ?? 0;
    const until = renew !== undefined ? new Date(new Date(renew).getTime() + ttl * 1000) : undefined;
    if (until !== undefined && until.getTime() <= now.getTime()) return undefined;
    return new LeaseHeldError(holder, until, `${this.namespace}/${this.name}`);
  }

  private static value(r: ApiResult<Obj>): LeaseObject {
    if (!r.ok) throw new Error(r.problem);
    return r.value;
  }

  /** Read-only: throws LeaseHeldError when another holder's Lease is still valid. */
  async check(now: Date): Promise<void> {
    const r = await this.client.getJson(this.path);
    if (!r.ok && r.status === 404) return;
    const held = this.held(Lease.value(r), now);
    if (held) throw held;
  }

  async acquire(now: Date): Promise<void> {
    const created = await this.client.create(this.collection, {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { "app.kubernetes.io/managed-by": "cnidoctor" },
      },
      spec: this.spec(now),
    });
    if (created.ok || created.status !== 409) {
      this.current = Lease.value(created);
      return;
    }
    const existing = Lease.value(await this.client.getJson(this.path));
    const held = this.held(existing, now);
    if (held) throw held;
    const replaced = await this.client.replace(this.path, { ...existing, spec: this.spec(now) });
    if (!replaced.ok && replaced.status === 409)
      throw new LeaseHeldError("a concurrent run", undefined, `${this.namespace}/${this.name}`);
    this.current = Lease.value(replaced);
  }

  async renew(now: Date): Promise<void> {
    if (this.current === undefined) throw new Error("lease not held");
    this.current = Lease.value(
      await this.client.replace(this.path, {
        ...this.current,
        spec: { ...this.current.spec, renewTime: microTime(now) },
      }),
    );
  }

  /** Deletes the Lease if we still hold it (resourceVersion precondition). */
  async release(): Promise<void> {
    const rv = this.current?.metadata?.resourceVersion;
    if (rv === undefined) return;
    this.current = undefined;
    const r = await this.client.delete(this.path, { preconditions: { resourceVersion: rv } });
    if (!r.ok && r.status !== 404 && r.status !== 409) Lease.value(r);
  }
}
