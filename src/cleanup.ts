// The cleanup registry: every resource a command creates registers how to remove it, and main.ts runs them
// in reverse order when the command ends: normally, on error, or on a signal.

type Task = { description: string; run: () => Promise<void> | void };

export class Cleanup {
  private tasks: Task[] = [];
  private running: Promise<string[]> | undefined;

  /** Registers an undo step; returns a function that drops it (when the resource was handed over, e.g. --keep). */
  add(description: string, run: () => Promise<void> | void): () => void {
    const task = { description, run };
    this.tasks.push(task);
    return () => {
      this.tasks = this.tasks.filter((t) => t !== task);
    };
  }

  get size(): number {
    return this.tasks.length;
  }

  /** Runs every step once, newest first, each even if an earlier one failed; returns the failures in words. */
  runAll(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      while (this.tasks.length) {
        const task = this.tasks.pop()!;
        try {
          await task.run();
        } catch (err) {
          failures.push(`could not ${task.description}: ${(err as Error).message}`);
        }
      }
      return failures;
    })();
    return this.running;
  }
}
