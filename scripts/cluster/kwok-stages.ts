// Lifecycle stages for kwok. kwok v0.8.0 runs no stage at all unless it is given some (kwokctl
// normally injects them), so the harness declares the few it needs:
//   node-ready      a new Node (Ready not True) becomes Ready; nodeInfo, capacity and addresses the
//                   harness set at creation are left alone, only conditions and the kubelet port
//                   are written.
//   node-heartbeat  refreshes the conditions every ~5 min, like a kubelet that also renews its lease
//                   (kwok renews leases itself when --node-lease-duration-seconds is set).
//   pod-running     a bound pod becomes Running and Ready with every container started and init
//                   containers completed; host-network pods get the node's IP.
//   pod-remove      a pod marked for deletion is removed at once (no kubelet to wait for).

interface Stage {
  apiVersion: string;
  kind: "Stage";
  metadata: { name: string };
  spec: Record<string, unknown>;
}

function stage(name: string, kind: "Node" | "Pod", spec: Record<string, unknown>): Stage {
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "Stage",
    metadata: { name },
    spec: { resourceRef: { apiGroup: "v1", kind }, ...spec },
  };
}

const READY_SELECTOR = '.status.conditions.[] | select( .type == "Ready" ) | .status';

const NODE_CONDITIONS = `{{ $now := Now }}
{{ $since := or .metadata.creationTimestamp $now }}
conditions:
- {type: MemoryPressure, status: "False", reason: KubeletHasSufficientMemory, message: "kubelet has sufficient memory available", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $since | Quote }}}
- {type: DiskPressure, status: "False", reason: KubeletHasNoDiskPressure, message: "kubelet has no disk pressure", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $since | Quote }}}
- {type: PIDPressure, status: "False", reason: KubeletHasSufficientPID, message: "kubelet has sufficient PID available", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $since | Quote }}}
- {type: Ready, status: "True", reason: KubeletReady, message: "kubelet is posting ready status", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $since | Quote }}}
`;

const NODE_READY = `${NODE_CONDITIONS}{{ with NodePort }}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ . }}
{{ end }}
phase: Running
`;

const POD_RUNNING = `{{ $now := Now }}
conditions:
- {type: PodReadyToStartContainers, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  started: true
  restartCount: 0
  state: {running: {startedAt: {{ $now | Quote }}}}
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  restartCount: 0
  state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}
{{ end }}
{{ with NodeIPsWith .spec.nodeName }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
`;

export function kwokStages(): Stage[] {
  return [
    stage("node-ready", "Node", {
      selector: { matchExpressions: [{ key: READY_SELECTOR, operator: "NotIn", values: ["True"] }] },
      next: { statusTemplate: NODE_READY },
    }),
    stage("node-heartbeat", "Node", {
      selector: {
        matchExpressions: [
          { key: ".status.phase", operator: "In", values: ["Running"] },
          { key: READY_SELECTOR, operator: "In", values: ["True"] },
        ],
      },
      delay: { durationMilliseconds: 300_000, jitterDurationMilliseconds: 330_000 },
      next: { statusTemplate: NODE_CONDITIONS },
    }),
    stage("pod-running", "Pod", {
      selector: {
        matchExpressions: [
          { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
          { key: ".status.phase", operator: "In", values: ["Pending"] },
          { key: READY_SELECTOR, operator: "NotIn", values: ["True"] },
        ],
      },
      next: { statusTemplate: POD_RUNNING },
    }),
    stage("pod-remove", "Pod", {
      selector: { matchExpressions: [{ key: ".metadata.deletionTimestamp", operator: "Exists" }] },
      next: { delete: true },
    }),
  ];
}
