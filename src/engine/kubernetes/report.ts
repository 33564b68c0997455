// `why` for a pod: reads the pod (or the workload and its pods), the pod's events and the containers' output
// (the current instance and the one before the last restart), and builds the crash report from them. Only GETs:
// nothing in the cluster is created or changed, and Secrets are never read.
import { PortholeError } from '../../errors.js';
import { durationWords, engineTime, findReferences, isErrorLine, redact } from '../../report/findings.js';
import type { KubeContainerReport, KubeSaidLine, KubeWhyReport } from '../../report/kube-facts.js';
import type { TargetRef } from '../target.js';
import { configMapKeyFor, containerFacts, eventLines, podProblems } from './facts.js';
import { podPath, podRestarts, readyCount, requireContainer, resolvePods, shortKind, type KubeCluster } from './index.js';
import type { ContainerSpec, KubeEvent, List, Pod } from './wire.js';

export interface KubeReportOptions {
  showSecrets: boolean;
  lines: number;
  now?: number;
}

const MAX_POINTERS = 8;

async function readLog(cluster: KubeCluster, pod: Pod, container: string, previous: boolean, lines: number): Promise<KubeSaidLine[]> {
  const query = `container=${encodeURIComponent(container)}&tailLines=${lines}${previous ? '&previous=true' : ''}`;
  const res = await cluster.client.stream(`${podPath(cluster.namespace, pod.metadata.name)}/log?${query}`, {
    verb: 'get',
    resource: 'pods/log',
    namespace: cluster.namespace,
    name: pod.metadata.name,
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  // The kubelet answers 200 with this one line when the instance's log file is gone (it keeps one ended instance).
  const gone = /^unable to retrieve container logs for (\S+)\s*$/.exec(text);
  if (gone) throw new LogGone(`the kubelet no longer keeps the log of that instance (${gone[1]})`);
  const rows = text.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  return rows.slice(-lines).map((row) => {
    const line = row.replace(/\r$/, '');
    const cut = line.length > 2000 ? `${line.slice(0, 2000)}...` : line;
    return { text: cut, error: isErrorLine(cut) };
  });
}

class LogGone extends PortholeError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** A log read that failed says why in the report instead of failing it (e.g. the container never started). */
async function saidOrWhy(read: Promise<KubeSaidLine[]>): Promise<{ lines: KubeSaidLine[] | null; why: string | null }> {
  try {
    return { lines: await read, why: null };
  } catch (err) {
    if (!(err instanceof PortholeError)) throw err;
    return { lines: null, why: err instanceof LogGone ? err.message : `its output cannot be read: ${err.message}` };
  }
}

/**
 * The lines around each path:line the output names, read from the running container through exec (`sed`, which
 * most images have); otherwise the path is named with the reason it could not be shown.
 */
async function showPointedLines(cluster: KubeCluster, pod: Pod, c: KubeContainerReport): Promise<void> {
  if (!c.points.length) return;
  // A file from a ConfigMap volume is read from the ConfigMap itself (Secrets never are): works when the container is down.
  const spec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === c.name)!;
  const fromConfigMap = await Promise.all(c.points.slice(0, 4).map((pt) => readFromConfigMap(cluster, pod, spec, pt)));
  if (c.state?.state !== 'running') {
    c.points.forEach((pt, i) => {
      if (!fromConfigMap[i]) pt.note ??= 'the file is inside the container, which is not running now: porthole cannot read it';
    });
    return;
  }
  await Promise.all(
    c.points.slice(0, 4).map(async (pt, i) => {
      if (fromConfigMap[i]) return;
      const from = Math.max(1, pt.line - 2);
      try {
        const r = await cluster.client.exec(cluster.namespace, pod.metadata.name, c.name, ['sed', '-n', `${from},${pt.line + 2}p`, pt.path], 64 * 1024);
        const failed = r.status && r.status.status !== 'Success';
        if (failed) {
          pt.note = `could not read it in the container: ${r.stderr.toString('utf8').trim().split('\n').pop() || r.status?.message || 'sed failed'}`;
          return;
        }
        const rows = r.stdout.toString('utf8').split('\n');
        if (rows[rows.length - 1] === '') rows.pop();
        pt.lines = rows.map((text, i) => ({ number: from + i, text: text.length > 500 ? `${text.slice(0, 500)}...` : text }));
        if (!pt.lines.some((l) => l.number === pt.line)) pt.note = `the file has fewer than ${pt.line} lines now`;
      } catch (err) {
        if (!(err instanceof PortholeError)) throw err;
        // A crash-looping container may end between the status read and the exec.
        pt.note = `could not read it in the container${c.restartCount ? ' (it may have just ended again)' : ''}: ${err.message}`;
      }
    }),
  );
}

async function readFromConfigMap(cluster: KubeCluster, pod: Pod, spec: ContainerSpec, pt: KubeContainerReport['points'][number]): Promise<boolean> {
  const source = configMapKeyFor(pod, spec, pt.path);
  if (!source) return false;
  const ns = cluster.namespace;
  try {
    const cm = await cluster.client.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(source.configMap)}`, {
      verb: 'get',
      resource: 'configmaps',
      namespace: ns,
      name: source.configMap,
    });
    const text = cm.data?.[source.key];
    if (text === undefined) {
      pt.note = `it comes from ConfigMap "${source.configMap}", which has no key "${source.key}"`;
      return true;
    }
    const rows = text.split('\n');
    if (rows[rows.length - 1] === '') rows.pop();
    const from = Math.max(1, pt.line - 2);
    pt.lines = rows.slice(from - 1, pt.line + 2).map((t, i) => ({ number: from + i, text: t.length > 500 ? `${t.slice(0, 500)}...` : t }));
    pt.note = `from ConfigMap "${source.configMap}" key "${source.key}"${pt.line > rows.length ? `, which has only ${rows.length} lines` : ''}`;
    return true;
  } catch (err) {
    if (!(err instanceof PortholeError)) throw err;
    pt.note = `it comes from ConfigMap "${source.configMap}" key "${source.key}", which porthole could not read: ${err.message}`;
    return true;
  }
}

export async function collectKubeReport(cluster: KubeCluster, ref: Extract<TargetRef, { engine: 'kubernetes' }>, opts: KubeReportOptions): Promise<KubeWhyReport> {
  const now = opts.now ?? Date.now();
  const ns = cluster.namespace;
  const listEvents = (selector: string) =>
    cluster.client.get<List<KubeEvent>>(`/api/v1/namespaces/${encodeURIComponent(ns)}/events?fieldSelector=${encodeURIComponent(selector)}`, {
      verb: 'list',
      resource: 'events',
      namespace: ns,
    });
  // A pod named by the user: its events are asked for by name at the same time as the pod (one round trip less),
  // then kept to this pod's uid (an earlier pod of the same name may have left events).
  const early = ref.kind === 'pod' ? listEvents(`involvedObject.kind=Pod,involvedObject.name=${ref.name}`) : undefined;
  early?.catch(() => undefined);
  const resolved = await resolvePods(cluster, ref);
  const pod = resolved.pod;
  if (ref.container) requireContainer(pod, ref.container);
  const events = early ? (await early).items.filter((e) => !e.involvedObject.uid || e.involvedObject.uid === pod.metadata.uid) : (await listEvents(`involvedObject.uid=${pod.metadata.uid ?? ''}`)).items;
  const evLines = eventLines(events, now);

  const specs = [...(pod.spec.initContainers ?? []).map((c) => [c, true] as const), ...pod.spec.containers.map((c) => [c, false] as const)];
  const secrets: string[] = [];
  let containers: KubeContainerReport[] = [];
  for (const [spec, init] of specs) {
    if (ref.container && spec.name !== ref.container) continue;
    const facts = containerFacts(pod, spec, init, evLines, opts.showSecrets, now);
    secrets.push(...facts.secrets);
    containers.push(facts.report);
  }
  // Init containers run first and block the rest: when one fails it is the story, so it leads.
  containers = [...containers.filter((c) => c.init && c.failing), ...containers.filter((c) => !c.init), ...containers.filter((c) => c.init && !c.failing)];

  // Output: of the failing containers (all of them when none fails), the previous instance and the current one.
  const anyFailing = containers.some((c) => c.failing);
  await Promise.all(
    containers
      .filter((c) => c.failing || (!anyFailing && !c.init))
      .map(async (c) => {
        const hadPrevious = c.lastState?.state === 'terminated' || c.restartCount > 0;
        const hasCurrent = c.state?.state === 'running' || c.state?.state === 'terminated';
        const [previous, current] = await Promise.all([
          hadPrevious ? saidOrWhy(readLog(cluster, pod, c.name, true, opts.lines)) : null,
          hasCurrent ? saidOrWhy(readLog(cluster, pod, c.name, false, opts.lines)) : null,
        ]);
        c.said = { previous: previous?.lines ?? null, current: current?.lines ?? null, previousUnavailable: previous?.why ?? null, currentUnavailable: current?.why ?? null };
        if (!hadPrevious && !hasCurrent && c.state?.state === 'waiting') c.said.currentUnavailable = 'it never started, so it printed nothing';
      }),
  );

  const scrub = (text: string) => (opts.showSecrets ? text : redact(text, [...new Set(secrets)].sort((a, b) => b.length - a.length)));
  for (const c of containers) {
    for (const lines of [c.said.previous, c.said.current]) for (const l of lines ?? []) l.text = scrub(l.text);
    const seen = new Set<string>();
    const sources = [
      ...(c.said.previous ?? []).map((l) => ({ from: 'the previous output', text: l.text })),
      ...(c.said.current ?? []).map((l) => ({ from: 'the current output', text: l.text })),
    ].sort((a, b) => Number(isErrorLine(b.text)) - Number(isErrorLine(a.text)));
    for (const s of sources) {
      for (const r of findReferences(s.text)) {
        const path = r.path.startsWith('/') || !c.ran.workingDir ? r.path : `${c.ran.workingDir.replace(/\/$/, '')}/${r.path}`;
        const key = `${path}:${r.line}`;
        if (seen.has(key) || c.points.length >= MAX_POINTERS) continue;
        seen.add(key);
        c.points.push({ reference: r.match, path, line: r.line, from: s.from, lines: [], note: null });
      }
    }
    await showPointedLines(cluster, pod, c);
    for (const pt of c.points) for (const l of pt.lines) l.text = scrub(l.text);
    for (const st of [c.state, c.lastState]) if (st?.message) st.message = scrub(st.message);
  }

  const problems = [...podProblems(pod, evLines), ...containers.flatMap((c) => c.problems)];
  const created = engineTime(pod.metadata.creationTimestamp);
  return {
    engine: 'kubernetes',
    cluster: cluster.target.clusterName,
    context: cluster.target.contextName,
    namespace: ns,
    pod: {
      name: pod.metadata.name,
      uid: pod.metadata.uid ?? '',
      node: pod.spec.nodeName ?? null,
      phase: pod.status?.phase ?? 'Unknown',
      qosClass: pod.status?.qosClass ?? null,
      createdAgo: created === null ? null : durationWords(now - created),
      ready: readyCount(pod),
    },
    workload: resolved.workload
      ? {
          kind: shortKind(resolved.workload.kind),
          name: resolved.workload.name,
          pods: resolved.pods.map((p) => ({ name: p.metadata.name, phase: p.status?.phase ?? 'Unknown', restarts: podRestarts(p), ready: readyCount(p) })),
          chosen: resolved.chosen,
        }
      : null,
    problems,
    containers,
    events: evLines.map((e) => ({ ...e, message: scrub(e.message) })),
    secretsShown: opts.showSecrets,
  };
}
