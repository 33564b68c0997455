// Which argument of a command on one container names that container: the first, or for cp whichever side has
// CONTAINER:PATH. Used by swarm routing (engine/swarm/route.ts), which replaces it with the container's id on its
// node, and by main.ts, whose hints name the container as the person typed it.

/** The commands a service/ or task/ name routes to the container's node, and where they take it. */
export const CONTAINER_ARG: Readonly<Record<string, 'first' | 'cp'>> = {
  shell: 'first', ls: 'first', cat: 'first', diff: 'first', find: 'first', grep: 'first', du: 'first', export: 'first', cp: 'cp',
};

/** The container a command that takes it first was given, as typed (cp's errors name theirs themselves). */
export function typedContainer(command: string, args: readonly unknown[]): string | undefined {
  // edit takes its container first too, but is not routed: it changes a container, and swarm would replace a task's
  const first = command === 'edit' || CONTAINER_ARG[command] === 'first';
  return first && typeof args[0] === 'string' ? args[0] : undefined;
}
