// The host view of container processes, for `ps`, `which` and `top`.
//
//   const table = ProcessTable.read();                       // one pass over /proc (stat lines only)
//   if (hasHostView(table, details.id, details.state.pid)) {  // the engine's processes are visible here
//     const tree = containerTree(table, details.id, details.state.pid);
//     for (const row of flattenForest(tree.shim ? [shimNode] : tree.processes, (n) => n.children)) ...
//   } else {
//     const rows = parseEngineTop(await engine.top(id, ENGINE_TOP_PS_ARGS), Date.now());  // engine host's PIDs
//   }
//
// containerRows() below does the above for one container and returns flat rows ready to print or serialise.
// For a sampled CPU figure (top), read the table twice and use cpuPercentBetween on ProcessInfo.cpuTicks.
export { ProcessTable, TICKS_PER_SECOND, type ProcessInfo, type ReadOptions } from './table.js';
export { buildTree, flattenForest, type ForestRow, type ProcessNode } from './tree.js';
export { containerTree, findContainerInits, hasHostView, inContainer, placePid, type ContainerProcessTree, type PidPlacement } from './containers.js';
export { ENGINE_TOP_PS_ARGS, engineTopForest, parseEngineTop, type EngineTopRow } from './engine-top.js';
export { cpuPercentBetween, formatStart, forestPrefix, lifetimeCpuPercent, stateName, statFlags, STATE_NAMES } from './format.js';
export { containerIdsInCgroup, parseCmdline, parseStat, parseStatus, type ProcStat, type ProcStatus } from './parse.js';
export { containerRows, engineTopRows, type ContainerRows, type ProcessRow } from './rows.js';
