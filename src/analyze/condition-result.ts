// The result of evaluating one advisory condition for one node, and what the evaluation reads.

import type { Condition } from "../model/advisory.js";
import type {
  AgentNodeFacts,
  CniPlugin,
  ContainerFacts,
  FelixConfigurationFacts,
  NodeFacts,
  Snapshot,
} from "../model/snapshot.js";

export interface ConditionResult {
  id: string;
  kind: Condition["kind"];
  /** true/false when decided; undefined when the needed data is missing or ambiguous. */
  holds: boolean | undefined;
  /** Only required conditions decide a status; risk factors are evidence. */
  required: boolean;
  message: string;
  source?: string;
  /** The value was Felix's default because FelixConfiguration was not read. */
  assumed: boolean;
  /** The resolved setting or fact, when known. */
  value?: boolean | string;
  /** The check whose missing data left this undecided (for coverage materiality). */
  needs?: string;
  /** The source held a value Felix rejects, so Felix's default was used. */
  invalid?: boolean;
  /** The fact cannot be read in this mode at all (a node fact without node agent data). */
  unavailable?: boolean;
}

export interface ConditionContext {
  node: string;
  nodeFacts: NodeFacts | undefined;
  container: ContainerFacts | undefined;
  felixConfigurations: FelixConfigurationFacts[] | undefined;
  /** The plugin of the install running on the node (object conditions may assume its defaults). */
  plugin?: CniPlugin;
  /** The Calico version running on the node, when known (version-dependent Felix defaults). */
  calicoVersion?: string;
  objects?: Snapshot["objects"];
  /** What a node agent read on this node; undefined when no agent data came with the target. */
  agent?: AgentNodeFacts;
  /** The kind of scan, for "not available in a bundle scan" messages. */
  mode?: Snapshot["target"]["kind"] | "agent";
  /** Records per signature id seen in this node's logs (Felix reporting a value it uses). */
  signals?: Readonly<Record<string, number>>;
}
