// Starts a named test cluster before a test file's suite and always stops it afterwards.

import { after, before } from "node:test";
import { killComponentsNow } from "../../../scripts/cluster/processes.js";
import {
  startCluster,
  stateDirFor,
  stopCluster,
  type ClusterInfo,
  type ClusterOptions,
} from "../../../scripts/cluster/cluster.js";

export function clusterForSuite(
  options: ClusterOptions & { name: string },
  onReady: (info: ClusterInfo) => void,
): void {
  // A test process stopped by a signal (Ctrl-C, a CI step's timeout) runs no after-hooks: its
  // cluster's detached components would outlive it, so they are killed here first.
  const onSignal = (signal: NodeJS.Signals): void => {
    killComponentsNow(stateDirFor(options.name));
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  before(
    async () => {
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      onReady(await startCluster(options));
    },
    { timeout: 300_000 },
  );
  after(
    async () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await stopCluster({ name: options.name });
    },
    { timeout: 60_000 },
  );
}
