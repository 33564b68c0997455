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
  { name: 'logs', summary: 'Show what a container printed, stdout and stderr kept apart', group: 'inspect', load: () => import('./logs.js') },
  { name: 'engine', summary: 'Show which engine porthole reached, how, and why earlier ways were skipped', group: 'engine', load: () => import('./engine.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}
