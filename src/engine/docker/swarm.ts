// The swarm manager's wire (API 1.41: /services, /tasks, /nodes, /services/{id}/logs) mapped to porthole's types.
import type { SwarmNode, SwarmService, SwarmTask, SwarmTaskState } from '../types.js';

export function toService(s: any): SwarmService {
  const mode = s?.Spec?.Mode ?? {};
  return {
    id: String(s?.ID ?? ''),
    name: String(s?.Spec?.Name ?? ''),
    image: String(s?.Spec?.TaskTemplate?.ContainerSpec?.Image ?? ''),
    replicas: mode.Replicated ? Number(mode.Replicated.Replicas ?? 1) : undefined,
    mode: mode.Global ? 'global' : 'replicated',
  };
}

export function toTask(t: any): SwarmTask {
  const status = t?.Status ?? {};
  const cs = status.ContainerStatus ?? {};
  return {
    id: String(t?.ID ?? ''),
    serviceId: String(t?.ServiceID ?? ''),
    nodeId: String(t?.NodeID ?? ''),
    slot: typeof t?.Slot === 'number' && t.Slot > 0 ? t.Slot : undefined,
    desiredState: String(t?.DesiredState ?? ''),
    state: String(status.State ?? 'new') as SwarmTaskState,
    message: String(status.Message ?? ''),
    err: String(status.Err ?? ''),
    timestamp: String(status.Timestamp ?? ''),
    createdAt: String(t?.CreatedAt ?? ''),
    containerId: cs.ContainerID ? String(cs.ContainerID) : undefined,
    exitCode: typeof cs.ExitCode === 'number' ? cs.ExitCode : undefined,
  };
}

export function toNode(n: any): SwarmNode {
  const managerAddr = String(n?.ManagerStatus?.Addr ?? '');
  let addr = String(n?.Status?.Addr ?? '');
  // a manager may report 0.0.0.0 or 127.0.0.1 as its own address: its manager address's host is the real one
  if ((!addr || addr === '0.0.0.0' || addr.startsWith('127.')) && managerAddr) addr = managerAddr.replace(/:\d+$/, '');
  return {
    id: String(n?.ID ?? ''),
    hostname: String(n?.Description?.Hostname ?? ''),
    state: String(n?.Status?.State ?? 'unknown'),
    availability: String(n?.Spec?.Availability ?? ''),
    message: String(n?.Status?.Message ?? ''),
    addr,
    manager: !!n?.ManagerStatus,
  };
}
