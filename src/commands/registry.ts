// Every command, its one-line summary, and how to load it. Modules load only when their command runs, so
// one command's dependencies never slow another's start-up.
import type { CommandModule } from '../cli/command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  group: 'inspect' | 'enter' | 'files' | 'engine';
  load: () => Promise<CommandModule<any>>;
}

export const commands: CommandEntry[] = [
  { name: 'ps', summary: "Show containers' processes as a tree, with host PIDs and PIDs inside", group: 'inspect', load: () => import('./ps.js') },
  { name: 'which', summary: 'Tell which container a host PID belongs to, and its PID inside', group: 'inspect', load: () => import('./which.js') },
  { name: 'stats', summary: 'Show CPU, memory, network, block I/O and PIDs of running containers in one table', group: 'inspect', load: () => import('./stats.js') },
  { name: 'top', summary: 'Live full-screen view of containers and their processes, with keys to open shell, logs and why', group: 'inspect', load: () => import('./top.js') },
  { name: 'net', summary: "Show a container's network from the host: addresses, routes, DNS, listening sockets, port mismatches", group: 'inspect', load: () => import('./net.js') },
  { name: 'logs', summary: 'Show what a container printed, stdout and stderr kept apart', group: 'inspect', load: () => import('./logs.js') },
  { name: 'why', summary: 'Explain why a container stopped or misbehaves: exit, command, output, changed files, config lines', group: 'inspect', load: () => import('./why.js') },
  { name: 'ui', summary: 'Open the investigation in a browser tab: containers, why, live logs, files (local, token-protected)', group: 'inspect', load: () => import('./ui.js') },
  { name: 'shell', summary: 'Open a shell or run a command inside a container: running, stopped, or without a shell', group: 'enter', load: () => import('./shell.js') },
  { name: 'tool', summary: "Run a host program (strace, lsof, gdb) on a container's process: {} becomes its host PID", group: 'enter', load: () => import('./tool.js') },
  { name: 'nsenter', summary: "Run a host program (ss, ip, tcpdump) inside a container's namespaces: network by default", group: 'enter', load: () => import('./nsenter.js') },
  { name: 'toolbox', summary: 'Build (build) or remove (rm) the toolbox that brings tools into containers without a shell', group: 'enter', load: () => import('./toolbox.js') },
  { name: 'diff', summary: 'Show what a container changed in its filesystem (A added, C changed, D deleted)', group: 'files', load: () => import('./diff.js') },
  { name: 'cp', summary: 'Copy files between a container and the host (docker cp rules, safe against hostile containers)', group: 'files', load: () => import('./cp.js') },
  { name: 'ls', summary: 'List files in a container, running, stopped or without a shell', group: 'files', load: () => import('./ls.js') },
  { name: 'cat', summary: 'Print files from a container byte for byte, running, stopped or without a shell', group: 'files', load: () => import('./cat.js') },
  { name: 'find', summary: 'Find files in a container by name, type, size, or changed since the image', group: 'files', load: () => import('./find.js') },
  { name: 'grep', summary: 'Search file contents in a container for a regular expression', group: 'files', load: () => import('./grep.js') },
  { name: 'du', summary: "Show how much space the container's own layer adds, biggest folders first", group: 'files', load: () => import('./du.js') },
  { name: 'export', summary: "Write a container's whole filesystem as a tar archive, or list it", group: 'files', load: () => import('./export.js') },
  { name: 'edit', summary: 'Edit a file inside a container (running or stopped) with your editor, then optionally start it', group: 'files', load: () => import('./edit.js') },
  { name: 'gc', summary: 'Remove what killed porthole sessions left behind (only things porthole made)', group: 'engine', load: () => import('./gc.js') },
  { name: 'demo', summary: 'Create (up) or remove (down) two demo containers: a clock and a crashed nginx', group: 'engine', load: () => import('./demo.js') },
  { name: 'completion', summary: 'Print the shell completion script for bash, zsh or fish', group: 'engine', load: () => import('./completion.js') },
  { name: 'engine', summary: 'Show which engine porthole reached, how, and why earlier ways were skipped', group: 'engine', load: () => import('./engine.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}
