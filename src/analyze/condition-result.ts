// The result of evaluating one advisory condition for one node, and what the evaluation reads.

import type { Condition } from "../model/advisory.js";
import type { NODE_FACTS_HELM_VALUE } from "../model/node-fact-series.js";
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
  /** How the operator can get the fact that was not available (rendered by obtainText). */
  obtain?: FactObtainHint;
}

/**
 * The steps that make node agent facts reach a scan, as typed fields (the report renders them
 * into words; see fact-hints.ts). Each is set only when that step is what is missing.
 */
export interface FactObtainHint {
  /** Prometheus must scrape the node agent: this Helm value of the cnidoctor-agent chart. */
  scrape?: "monitors.podMonitor.enabled";
  /** The agent must read node facts (its --host-root): this Helm value of the chart. */
  helmValue?: typeof NODE_FACTS_HELM_VALUE;
  /** The scan must read the agent's series back: this flag. */
  scanFlag?: "--prometheus";
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
