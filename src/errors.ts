// Typed errors. Each carries a sentence a person can act on; main.ts alone turns them into exit codes.
import { listHint } from './cli/invocation.js';

/** Documented exit codes (docs/exit-codes.md). `shell -- CMD` exits with CMD's own code instead. */
export const EXIT = {
  ok: 0,
  failure: 1, // a negative answer (e.g. `which` on a PID outside every container) or a failed operation
  usage: 2, // bad flags or arguments
  notFound: 3, // no such container, path or process
  ambiguous: 4, // a name or id prefix matching more than one container
  engine: 5, // engine unreachable, permission denied, engine too old, context not found
  unsupported: 6, // the container cannot be entered that way (no shell, wrong state)
  shellOwnFailure: 125, // with `shell`, porthole's own failures, so they never look like the command's code
  cannotRun: 126, // `tool`, `nsenter`: the program exists but cannot be run (as a shell says it)
  programNotFound: 127, // `tool`, `nsenter`: no such program (as a shell says it)
} as const;

export class PortholeError extends Error {
  readonly exitCode: number;
  /** One more sentence that says what to do, printed after the message. */
  readonly hint: string | undefined;
  constructor(message: string, exitCode: number, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export class InvalidArgument extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.usage, hint);
  }
}

export class NotFound extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.notFound, hint);
  }
}

/**
 * A path in a container or image that the command cannot use as given: missing, or a folder where a file was
 * wanted. Its hint lists the folder to look at next, in a command that runs as printed (cli/invocation.ts):
 * "Check the path with `porthole ls web /var`." `folder` is text as a person types it; `container` is the container
 * as the command named it, where that is not what the person typed first (cp).
 */
export class UnusablePath extends NotFound {
  constructor(message: string, folder: string, lead = 'Check the path with', container?: string) {
    super(message, listHint(lead, folder, container));
  }
}

/** A path that is not there, said already about where it was looked for (the container, an image). */
export class NoSuchPath extends UnusablePath {}

export class Ambiguous extends PortholeError {
  readonly matches: string[];
  constructor(message: string, matches: string[], hint?: string) {
    super(message, EXIT.ambiguous, hint);
    this.matches = matches;
  }
}

export class EngineUnavailable extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.engine, hint);
  }
}

export class Unsupported extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.unsupported, hint);
  }
}

/** A failure with a plain exit status and a sentence, e.g. `which` on a PID outside containers. */
export class Failure extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.failure, hint);
  }
}

/** A running container changed what porthole was reading (swapped a folder for a link, removed it): not retried silently. */
export class ChangedWhileRead extends Failure {}

/** The command porthole ran finished with this status; porthole exits with it, silently. */
export class ExitStatus extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit status ${code}`);
    this.name = 'ExitStatus';
    this.code = code;
  }
}

/** The engine answered with an error status that no more specific class covers. */
export class EngineError extends PortholeError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, hint?: string) {
    super(message, EXIT.failure, hint);
    this.statusCode = statusCode;
  }
}

/** The engine or cluster knows who we are but refuses (Kubernetes 403), or does not accept who we say we are (401). */
export class AccessDenied extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.engine, hint);
  }
}

/** A host program that `tool` or `nsenter` was asked to run does not exist: 127, as in a shell. */
export class ProgramNotFound extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.programNotFound, hint);
  }
}

/** A host program exists but may not be run (not executable, permission denied): 126, as in a shell. */
export class CannotRun extends PortholeError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.cannotRun, hint);
  }
}

/** The container's processes are not in this machine's /proc (a remote engine, another PID namespace). */
export class ProcessesNotVisible extends Unsupported {}
