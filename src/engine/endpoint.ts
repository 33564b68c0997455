// Where the engine is and how porthole found it.

export interface TlsFiles {
  ca?: string; // PEM contents
  cert?: string;
  key?: string;
  verify: boolean;
  /** The TLS settings in force, in words (which flag or variable, which files), for error sentences. */
  described?: string;
}

export interface Endpoint {
  /** unix:///path, tcp://host:port, or ssh://[user@]host[:port] */
  host: string;
  tls?: TlsFiles;
  /** The way that gave this endpoint, in words: "--host flag", "DOCKER_HOST", "context \"x\"", "default socket". */
  via: string;
  /** Docker context name, when a context supplied it. */
  context?: string;
  /** Earlier ways in the precedence order and why each was not used. */
  skipped: { way: string; reason: string }[];
  /** The swarm node whose engine this is, when porthole reached it for a task (engine/swarm/reach.ts). */
  node?: string;
}
