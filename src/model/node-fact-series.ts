// The Prometheus series of the node facts the agent reads: one contract between the exporter
// (src/agent/metrics.ts) and the scan's Prometheus collector (src/collect/prometheus/node-facts.ts),
// so a rename on one side cannot silently leave the other querying nothing. The series are generic
// node facts (a NIC, a kernel counter, kernel log matches by condition id), not verdicts.

import type { AgentFact } from "./advisory.js";

export const NODE_FACT_SERIES = {
  /** The agent's own liveness series, present whenever Prometheus scrapes an agent. */
  agentUp: "cnidoctor_agent_up",
  /** {node, fact} 1 when the agent read the fact at its last reading, 0 when it could not. */
  factRead: "cnidoctor_node_fact_read_success",
  /** {node, interface, driver} 1: the NIC carrying the default route. */
  nicInfo: "cnidoctor_node_nic_info",
  /** {node}: the kernel's Udp InCsumErrors counter, as read. */
  udpInCsumErrors: "cnidoctor_node_udp_in_csum_errors_total",
  /** {node, condition}: kernel log records that matched a kernel-log condition. */
  kernelLogMatches: "cnidoctor_node_kernel_log_matches_total",
} as const;

/** The `fact` label values of NODE_FACT_SERIES.factRead, by the fact conditions they serve. */
export const FACT_LABEL: Readonly<Record<AgentFact, string>> = {
  nicDriver: "nic_driver",
  udpInCsumErrorsRising: "udp_in_csum_errors",
  kernelLog: "kernel_log",
};

/** The cnidoctor-agent Helm value that makes the agent read node facts (it passes --host-root). */
export const NODE_FACTS_HELM_VALUE = "agent.nodeFacts.enabled";
