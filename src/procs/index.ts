// The host view of container processes, for `ps`, `which` and `top`. Everything here reads /proc (never the
// engine): callers get State.Pid or container ids from the engine and pass them in.
//
//   // One container whose State.Pid the engine gave: read just its shim's subtree.
//   const table = ProcessTable.readAround([details.state.pid]);
//   if (hasHostView(table, details.id, details.state.pid)) {            // the engine's processes are visible here
//     const tree = containerTree(table, details.id, details.state.pid);  // shim + the container's processes
//     const { rows, prefixes } = containerRows(details.name, tree!);     // flat, ps faux order, --json shape
//   } else {                                                              // remote engine / other PID namespace
//     const top = parseEngineTop(await engine.top(details.id, ENGINE_TOP_PS_ARGS), Date.now());
//     const { rows, prefixes } = engineTopRows(details.name, details.id, details.state.pid, top);
//   }
//
//   // Many containers known by id only (listContainers): one full read, then find each init.
//   const table = ProcessTable.read();
//   const inits = findContainerInits(table, ids);                         // id -> init host PID
//
// A live CPU figure (top): read the table twice and compare ProcessInfo.cpuTicks with cpuPercentBetween().
// ProcessInfo (table.process(pid)) carries hostPid, nsPid, user, cpuPercent, rssBytes, startTimeMs, state, stat,
// argv and command; buildTree/flattenForest give any process subtree with `ps f` drawing.
export { ProcessTable, TICKS_PER_SECOND, pidInContainer, type ProcessInfo, type ReadOptions } from './table.js';
export { buildTree, flattenForest, type ForestRow, type ProcessNode } from './tree.js';
export { containerTree, findContainerInits, hasHostView, inContainer, placePid, type ContainerProcessTree, type PidPlacement } from './containers.js';
export { ENGINE_TOP_PS_ARGS, engineTopForest, parseEngineTop, type EngineTopRow } from './engine-top.js';
export { cpuPercentBetween, formatStart, forestPrefix, lifetimeCpuPercent, stateName, statFlags, STATE_NAMES, shownCommand } from './format.js';
export { containerIdsInCgroup, parseCmdline, parseStat, parseStatus, type ProcStat, type ProcStatus } from './parse.js';
export { containerRows, engineTopRows, type ContainerRows, type ProcessRow } from './rows.js';
