// A pod as Kubernetes records it, turned into the crash report's facts: each container's state and last state
// in words, why it is waiting (the missing ConfigMap, the image that cannot be pulled, the back-off), the probe
// failures and scheduling trouble the events tell of, what it ran, its environment (secrets masked, never read)
// and its resources. Pure functions over the API's objects: unit-tested with recorded objects.
import { durationWords, engineTime, exitMeaning, isSecretName, maskEnvironment, type EnvEntry } from '../../report/findings.js';
import type { KubeContainerReport, KubeEventLine, KubeStateFacts } from '../../report/kube-facts.js';
import type { ContainerSpec, ContainerStateWire, ContainerStatus, EnvVar, KubeEvent, Pod, Probe } from './wire.js';

/** Kubernetes quantities ("64Mi", "1G", "500m") in bytes or units; undefined when unreadable. */
export function parseQuantity(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const factor: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };
  return Number(m[1]) * (m[2] ? factor[m[2]]! : 1);
}

/** A state (current or last) in words: running since, waiting and why, or how it ended. */
export function stateFacts(state: ContainerStateWire | undefined, memoryLimit: string | undefined, now: number): KubeStateFacts | null {
  if (!state) return null;
  if (state.running) {
    const started = engineTime(state.running.startedAt);
    return { state: 'running', reason: null, message: null, exitCode: null, meaning: null, signal: null, oomKilled: false, startedAt: state.running.startedAt ?? null, finishedAt: null, ranFor: started === null ? null : durationWords(now - started), endedAgo: null };
  }
  if (state.terminated) {
    const t = state.terminated;
    const oom = t.reason === 'OOMKilled';
    const started = engineTime(t.startedAt);
    const finished = engineTime(t.finishedAt);
    const meaning = exitMeaning(t.exitCode, oom);
    let words = meaning.words;
    if (oom && memoryLimit) words = `${words}; its memory limit is ${memoryLimit}`;
    if (t.reason === 'StartError' || t.reason === 'ContainerCannotRun') words = `the runtime could not start it (${t.reason})`;
    if (t.exitCode === 137 && !oom) words = words.replace('docker kill, by docker stop after its timeout', 'Kubernetes stopping it after its grace period (a failed liveness probe, a deleted pod)');
    if (t.exitCode === 143) words = 'exit code 143: ended by SIGTERM, asked to stop (Kubernetes sends it on a failed liveness probe or when the pod is deleted)';
    return {
      state: 'terminated',
      reason: t.reason ?? null,
      message: t.message?.trim() || null,
      exitCode: t.exitCode,
      meaning: words,
      signal: meaning.signal,
      oomKilled: oom,
      startedAt: t.startedAt ?? null,
      finishedAt: t.finishedAt ?? null,
      ranFor: started !== null && finished !== null ? durationWords(finished - started) : null,
      endedAgo: finished !== null ? durationWords(now - finished) : null,
    };
  }
  if (state.waiting) {
    const w = state.waiting;
    return { state: 'waiting', reason: w.reason ?? null, message: w.message?.trim() || null, exitCode: null, meaning: null, signal: null, oomKilled: false, startedAt: null, finishedAt: null, ranFor: null, endedAgo: null };
  }
  return null;
}

/** The problem a waiting reason stands for, with what the kubelet said, in one sentence. */
export function waitingProblem(name: string, status: ContainerStatus, spec: ContainerSpec | undefined): string | null {
  const w = status.state?.waiting;
  if (!w?.reason) return null;
  const msg = w.message?.trim() ?? '';
  const image = spec?.image ?? status.image ?? '?';
  switch (w.reason) {
    case 'CrashLoopBackOff': {
      const backoff = /back-off (\S+)/.exec(msg)?.[1];
      const restarts = status.restartCount ?? 0;
      return `${name} is in CrashLoopBackOff: it crashed and was restarted ${restarts} time${restarts === 1 ? '' : 's'}; Kubernetes waits${backoff ? ` ${backoff}` : ''} before the next try`;
    }
    case 'CreateContainerConfigError': {
      const missing = missingReference(msg);
      return `${name} cannot be created: ${missing ?? msg}`;
    }
    case 'CreateContainerError':
    case 'RunContainerError':
    case 'ContainerCannotRun':
      return `${name} cannot be started (${w.reason}): ${msg}`;
    case 'ErrImagePull':
    case 'ImagePullBackOff':
    case 'ErrImageNeverPull':
    case 'InvalidImageName':
      return `${name}: the image ${image} cannot be pulled (${w.reason})${msg ? `: ${msg}` : ''}`;
    case 'ContainerCreating':
    case 'PodInitializing':
      return null;
    default:
      return `${name} is waiting: ${w.reason}${msg ? `: ${msg}` : ''}`;
  }
}

/** "configmap "app" not found" and the like, said plainly: which ConfigMap, Secret or key is missing. */
export function missingReference(message: string): string | null {
  let m = /^(configmap|secret) "([^"]+)" not found/i.exec(message);
  if (m) return `the ${m[1]!.toLowerCase() === 'configmap' ? 'ConfigMap' : 'Secret'} "${m[2]}" it refers to does not exist`;
  m = /couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)\/(\S+)/i.exec(message);
  if (m) return `the ${m[2]} "${m[4]}" has no key "${m[1]}" (it refers to it)`;
  return null;
}

const PROBE_FAILED = /^(Liveness|Readiness|Startup) probe failed: ?([\s\S]*)$/;

/** Events newest first, repeated ones merged (same reason and message), counts added up. */
export function eventLines(events: KubeEvent[], now: number): KubeEventLine[] {
  const when = (e: KubeEvent) => engineTime(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? undefined) ?? 0;
  const sorted = [...events].sort((a, b) => when(b) - when(a));
  const merged = new Map<string, KubeEventLine>();
  for (const e of sorted) {
    const message = (e.message ?? '').trim();
    const container = /spec\.(?:initContainers|containers)\{([^}]+)\}/.exec(e.involvedObject.fieldPath ?? '')?.[1] ?? null;
    const key = `${e.reason}\u0000${container}\u0000${message}`;
    const count = e.series?.count ?? e.count ?? 1;
    const existing = merged.get(key);
    if (existing) {
      existing.count += count;
      continue;
    }
    const at = when(e);
    merged.set(key, {
      type: e.type ?? 'Normal',
      reason: e.reason ?? '',
      message,
      container,
      count,
      lastSeen: at ? new Date(at).toISOString() : null,
      ago: at ? durationWords(now - at) : null,
      from: e.reportingComponent || e.source?.component || null,
    });
  }
  return [...merged.values()];
}

/** Probe failures the kubelet reported as events, for one container: which probe and what it got. */
export function probeFailures(events: KubeEventLine[], container: string): { probe: string; got: string; count: number; ago: string | null }[] {
  const out: { probe: string; got: string; count: number; ago: string | null }[] = [];
  for (const e of events) {
    if (e.reason !== 'Unhealthy' || (e.container && e.container !== container)) continue;
    const m = PROBE_FAILED.exec(e.message);
    if (m) out.push({ probe: m[1]!.toLowerCase(), got: m[2]!.trim() || '(no output)', count: e.count, ago: e.ago });
  }
  return out;
}

export function describeProbe(p: Probe | undefined): string | null {
  if (!p) return null;
  let how = '?';
  if (p.exec?.command) how = `exec ${p.exec.command.join(' ')}`;
  else if (p.httpGet) how = `HTTP GET ${(p.httpGet.scheme ?? 'HTTP').toLowerCase()}://${p.httpGet.host ?? ''}:${p.httpGet.port}${p.httpGet.path ?? '/'}`;
  else if (p.tcpSocket) how = `TCP port ${p.tcpSocket.port}`;
  else if (p.grpc) how = `gRPC port ${p.grpc.port}${p.grpc.service ? ` service ${p.grpc.service}` : ''}`;
  const timing = [`every ${p.periodSeconds ?? 10}s`, `after ${p.initialDelaySeconds ?? 0}s`, `timeout ${p.timeoutSeconds ?? 1}s`, `fails after ${p.failureThreshold ?? 3}`];
  return `${how} (${timing.join(', ')})`;
}

/** The environment as the spec gives it: literal values (secret-looking ones masked), and where the others come from. */
export function containerEnv(spec: ContainerSpec, showSecrets: boolean): { entries: (EnvEntry & { from: string | null })[]; secrets: string[] } {
  const literal = (spec.env ?? []).filter((e) => e.valueFrom === undefined);
  const { entries, secrets } = maskEnvironment(literal.map((e) => `${e.name}=${e.value ?? ''}`), showSecrets);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const out: (EnvEntry & { from: string | null })[] = [];
  for (const e of spec.env ?? []) {
    if (e.valueFrom === undefined) {
      out.push({ ...byName.get(e.name)!, from: null });
      continue;
    }
    out.push({ name: e.name, value: null, masked: !!e.valueFrom.secretKeyRef || isSecretName(e.name), from: valueSource(e) });
  }
  for (const f of spec.envFrom ?? []) {
    const source = f.configMapRef ? `every key of ConfigMap "${f.configMapRef.name}"` : f.secretRef ? `every key of Secret "${f.secretRef.name}" (not read)` : 'unknown source';
    out.push({ name: `${f.prefix ?? ''}*`, value: null, masked: !!f.secretRef, from: source });
  }
  return { entries: out, secrets };
}

function valueSource(e: EnvVar): string {
  const v = e.valueFrom!;
  if (v.secretKeyRef) return `Secret "${v.secretKeyRef.name ?? ''}" key "${v.secretKeyRef.key}" (not read)`;
  if (v.configMapKeyRef) return `ConfigMap "${v.configMapKeyRef.name ?? ''}" key "${v.configMapKeyRef.key}"`;
  if (v.fieldRef) return `field ${v.fieldRef.fieldPath}`;
  if (v.resourceFieldRef) return `resource ${v.resourceFieldRef.resource}`;
  return 'elsewhere';
}

/** Whether the instance before this one failed within the last hour. */
function recentCrash(status: ContainerStatus, now: number): boolean {
  const last = status.lastState?.terminated;
  const ended = engineTime(last?.finishedAt);
  return !!last && last.exitCode !== 0 && ended !== null && now - ended < 3_600_000;
}

/** Whether a container is the one in trouble: waiting on an error, crashed, or restarting. */
export function isFailing(status: ContainerStatus | undefined, init: boolean, now = Date.now()): boolean {
  if (!status) return false;
  const w = status.state?.waiting?.reason;
  if (w && w !== 'ContainerCreating' && w !== 'PodInitializing') return true;
  const t = status.state?.terminated;
  if (t && t.exitCode !== 0) return true;
  if (t && t.exitCode === 0 && init) return false;
  return (status.restartCount ?? 0) > 0 && (!status.ready || recentCrash(status, now));
}

/** One container's facts, logs not included (they come over the network). */
export function containerFacts(pod: Pod, spec: ContainerSpec, init: boolean, events: KubeEventLine[], showSecrets: boolean, now: number): { report: KubeContainerReport; secrets: string[] } {
  const statuses = (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
  const status = statuses.find((s) => s.name === spec.name);
  const limit = spec.resources?.limits?.memory;
  const { entries, secrets } = containerEnv(spec, showSecrets);
  const problems: string[] = [];
  const label = `${init ? 'init container' : 'container'} ${spec.name}`;
  if (status) {
    const waiting = waitingProblem(label, status, spec);
    if (waiting) problems.push(waiting);
    // Between a crash and its back-off the kubelet may still show the ended instance: the restarts tell the story.
    const restarts = status.restartCount ?? 0;
    if (!waiting && restarts > 0 && status.state?.terminated && status.state.terminated.exitCode !== 0) {
      problems.push(`${label} keeps crashing: restarted ${restarts} time${restarts === 1 ? '' : 's'}, and it has just ended again`);
    } else if (!waiting && restarts > 0 && status.state?.running && recentCrash(status, now)) {
      problems.push(`${label} keeps crashing: restarted ${restarts} time${restarts === 1 ? '' : 's'}; this instance started ${durationWords(now - (engineTime(status.state.running.startedAt) ?? now))} ago`);
    }
    const last = status.lastState?.terminated ?? status.state?.terminated;
    if (last?.reason === 'OOMKilled') problems.push(`${label} was killed by the out-of-memory killer${limit ? `: it used more than its memory limit of ${limit}` : ' (no memory limit of its own: the node ran out)'}`);
    else if (last && last.exitCode !== 0 && !(init && status.state?.terminated?.exitCode === 0)) {
      problems.push(`${label} ${last.reason === 'StartError' || last.reason === 'ContainerCannotRun' ? `could not be started: ${last.message?.trim() ?? last.reason}` : `exited with code ${last.exitCode}${last.reason && last.reason !== 'Error' ? ` (${last.reason})` : ''}`}`);
    }
    // The runtime learns of an OOM kill from an event that can come too late (cgroup v1): a limit makes it likely.
    if (last && last.exitCode === 137 && last.reason !== 'OOMKilled' && limit) {
      problems.push(`${label} was killed with SIGKILL and has a memory limit of ${limit}: likely the out-of-memory killer (check the node's kernel log)`);
    }
  }
  const probes = probeFailures(events, spec.name);
  for (const p of probes.slice(0, 2)) problems.push(`${label}: its ${p.probe} probe failed${p.count > 1 ? ` ${p.count} times` : ''}: ${p.got}`);
  const user = spec.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  return {
    secrets,
    report: {
      name: spec.name,
      init,
      image: spec.image ?? status?.image ?? '',
      imageID: status?.imageID || null,
      ready: status?.ready ?? false,
      restartCount: status?.restartCount ?? 0,
      failing: isFailing(status, init, now) || probes.length > 0,
      problems,
      state: stateFacts(status?.state, limit, now),
      lastState: stateFacts(status?.lastState, limit, now),
      ran: {
        command: spec.command ?? null,
        args: spec.args ?? null,
        workingDir: spec.workingDir ?? null,
        user: user === undefined ? null : String(user),
      },
      probes: {
        liveness: describeProbe(spec.livenessProbe),
        readiness: describeProbe(spec.readinessProbe),
        startup: describeProbe(spec.startupProbe),
      },
      probeFailures: probes,
      env: entries,
      resources: { requests: spec.resources?.requests ?? {}, limits: spec.resources?.limits ?? {} },
      mounts: (spec.volumeMounts ?? []).map((m) => ({ name: m.name, path: m.mountPath, readOnly: !!m.readOnly, source: volumeSource(pod, m.name) })),
      said: { previous: null, current: null, previousUnavailable: null, currentUnavailable: null },
      points: [],
    },
  };
}

/** Why the pod as a whole is in trouble: evicted, preempted, not schedulable, stuck pending. */
export function podProblems(pod: Pod, events: KubeEventLine[]): string[] {
  const out: string[] = [];
  const s = pod.status ?? {};
  if (s.reason === 'Evicted') out.push(`the pod was evicted from its node: ${s.message ?? 'no reason given'}`);
  else if (s.reason === 'Preempting' || events.some((e) => e.reason === 'Preempted')) out.push(`the pod was preempted: ${events.find((e) => e.reason === 'Preempted')?.message ?? s.message ?? 'a higher-priority pod took its place'}`);
  else if (s.reason && s.reason !== 'Evicted') out.push(`the pod ${s.reason}${s.message ? `: ${s.message}` : ''}`);
  const scheduled = s.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    const why = scheduled.message ?? events.find((e) => e.reason === 'FailedScheduling')?.message ?? scheduled.reason ?? 'no reason given';
    out.push(`the pod cannot be scheduled on any node (${scheduled.reason ?? 'Unschedulable'}): ${why}`);
  }
  if (pod.metadata.deletionTimestamp) out.push(`the pod is being deleted (since ${pod.metadata.deletionTimestamp})`);
  return out;
}

function volumeSource(pod: Pod, name: string): string | null {
  const v = pod.spec.volumes?.find((x) => x.name === name);
  if (!v) return null;
  if (v.configMap) return `ConfigMap ${v.configMap.name}`;
  if (v.secret) return `Secret ${v.secret.secretName}`;
  if (v.persistentVolumeClaim) return `PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}`;
  if (v.emptyDir) return 'emptyDir';
  if (v.hostPath) return `hostPath ${v.hostPath.path}`;
  return null;
}

/** The ConfigMap key a path in the container comes from, when a ConfigMap volume is mounted there. */
export function configMapKeyFor(pod: Pod, spec: ContainerSpec, path: string): { configMap: string; key: string } | null {
  for (const m of spec.volumeMounts ?? []) {
    const v = pod.spec.volumes?.find((x) => x.name === m.name);
    if (!v?.configMap) continue;
    if (m.subPath) {
      if (path === m.mountPath) return { configMap: v.configMap.name, key: v.configMap.items?.find((i) => i.path === m.subPath)?.key ?? m.subPath };
      continue;
    }
    const base = m.mountPath.replace(/\/+$/, '');
    if (!path.startsWith(`${base}/`)) continue;
    const rest = path.slice(base.length + 1);
    if (v.configMap.items) {
      const item = v.configMap.items.find((i) => i.path === rest);
      if (item) return { configMap: v.configMap.name, key: item.key };
      continue;
    }
    if (!rest.includes('/')) return { configMap: v.configMap.name, key: rest };
  }
  return null;
}
