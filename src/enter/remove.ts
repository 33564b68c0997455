// Removing what a session made, on every way out: retried while the engine is unreachable (an engine that restarts
// comes back within seconds) and while the engine is already removing it; when the engine stays away, the failure
// names what is left and how it goes (`porthole gc` proves it is this session's, see commands/gc.ts).
import { engineWords, portholeOnEngine } from '../cli/invocation.js';
import type { Endpoint } from '../engine/endpoint.js';
import { EngineError, EngineUnavailable, NotFound } from '../errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** About 5 s of retries in all (250 ms, 500 ms, ... 1.5 s). */
const ENGINE_RETRIES = 6;

/** Removes one thing a session made on the engine at `endpoint` (named in the failure, with gc's way to it). */
export async function removeLeftover(id: string, remove: () => Promise<void>, endpoint?: Endpoint): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await remove();
      return;
    } catch (err) {
      if (err instanceof NotFound) return;
      // "removal already in progress" (an auto-removed sidecar ending at the same moment)
      if (err instanceof EngineError && err.statusCode === 409 && attempt < 5) {
        await sleep(100);
        continue;
      }
      if (!(err instanceof EngineUnavailable)) throw err;
      if (attempt >= ENGINE_RETRIES) {
        throw new Error(`${id.replace(/^sha256:/, '').slice(0, 12)} is left on ${engineWords(endpoint, 'the engine')}, which went away; \`${portholeOnEngine(endpoint)} gc\` removes it once the engine is back.`);
      }
      await sleep(250 * (attempt + 1));
    }
  }
}
