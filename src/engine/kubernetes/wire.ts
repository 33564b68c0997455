// The parts of Kubernetes objects porthole reads, as the API sends them (core/v1, apps/v1, batch/v1). Only
// engine/kubernetes/ sees these; everything past it gets porthole's own types.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key: string; optional?: boolean };
    configMapKeyRef?: { name?: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { resource: string; containerName?: string };
  };
}

export interface Probe {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string };
  tcpSocket?: { port: number | string };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: { prefix?: string; configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean; privileged?: boolean; readOnlyRootFilesystem?: boolean };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  restartPolicy?: string;
}

export interface ContainerStateWire {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode: number; signal?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string; containerID?: string };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerStateWire;
  lastState?: ContainerStateWire;
  containerID?: string;
}

export interface Pod {
  metadata: ObjectMeta;
  spec: {
    containers: ContainerSpec[];
    initContainers?: ContainerSpec[];
    nodeName?: string;
    restartPolicy?: string;
    serviceAccountName?: string;
    securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean };
    volumes?: { name: string; configMap?: { name: string; items?: { key: string; path: string }[] }; secret?: { secretName: string }; persistentVolumeClaim?: { claimName: string }; emptyDir?: object; hostPath?: { path: string } }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    startTime?: string;
    qosClass?: string;
    nominatedNodeName?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface Workload {
  metadata: ObjectMeta;
  spec?: { selector?: LabelSelector; replicas?: number };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; replicas?: number; readyReplicas?: number };
}

export interface KubeEvent {
  metadata: ObjectMeta;
  involvedObject: { kind?: string; name?: string; uid?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
  source?: { component?: string; host?: string };
  reportingComponent?: string;
}

export interface List<T> {
  items: T[];
}
