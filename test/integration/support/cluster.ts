// Starts a named test cluster before a test file's suite and always stops it afterwards.

import { after, before } from "node:test";
import {
  startCluster,
  stopCluster,
  type ClusterInfo,
  type ClusterOptions,
} from "../../../scripts/cluster/cluster.js";

export function clusterForSuite(
  options: ClusterOptions & { name: string },
  onReady: (info: ClusterInfo) => void,
): void {
  before(
    async () => {
      onReady(await startCluster(options));
    },
    { timeout: 300_000 },
  );
  after(
    async () => {
      await stopCluster({ name: options.name });
    },
    { timeout: 60_000 },
  );
}
