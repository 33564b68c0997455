// Headless Chromium (Debian's, /usr/bin/chromium) driven over the DevTools protocol with Node's own WebSocket:
// open a page, wait for something in it, read it. No browser download, no driver package.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export interface Tab {
  evaluate: (expression: string) => Promise<any>;
  /** Text as typed (Input.insertText): goes to the focused element. */
  type: (text: string) => Promise<void>;
  key: (key: 'Enter') => Promise<void>;
  /** The page's JS heap in use, after a garbage collection. */
  heapBytes: () => Promise<number>;
  screenshot: () => Promise<Buffer>;
  close: () => Promise<void>;
}

export class Browser {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private constructor(
    private readonly child: ChildProcess,
    private readonly socket: WebSocket,
    private readonly profile: string,
  ) {
    socket.addEventListener('message', (event) => {
      const msg = JSON.parse(String(event.data));
      const waiter = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(msg.error.message));
      else waiter.resolve(msg.result);
    });
  }

  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'porthole-chromium-'));
    const child = spawn(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--remote-debugging-port=0', '--window-size=1280,900', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const wsUrl = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err}`)), 30000);
      child.stderr!.on('data', (d) => {
        err += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const browserSocket = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      browserSocket.addEventListener('open', resolve);
      browserSocket.addEventListener('error', reject);
    });
    const browser = new Browser(child, browserSocket, profile);
    return browser;
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /**
   * Opens a tab at url; returns functions that evaluate an expression in it, type into it, read its JS heap and
   * take a screenshot. `init` runs in the page before any of its own scripts (e.g. to record CSP violations).
   */
  async open(url: string, opts: { init?: string } = {}): Promise<Tab> {
    const { targetId } = await this.send('Target.createTarget', { url: opts.init ? 'about:blank' : url });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    if (opts.init) {
      await this.send('Page.enable', {}, sessionId);
      await this.send('Page.addScriptToEvaluateOnNewDocument', { source: opts.init }, sessionId);
      await this.send('Page.navigate', { url }, sessionId);
    }
    return {
      evaluate: async (expression: string) => {
        const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId);
        if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
        return r.result.value;
      },
      type: async (text: string) => {
        await this.send('Input.insertText', { text }, sessionId);
      },
      key: async (key: 'Enter') => {
        const code = { Enter: 13 }[key];
        await this.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code: key, windowsVirtualKeyCode: code, text: '\r' }, sessionId);
        await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code: key, windowsVirtualKeyCode: code }, sessionId);
      },
      heapBytes: async () => {
        await this.send('HeapProfiler.collectGarbage', {}, sessionId).catch(() => undefined);
        return (await this.send('Runtime.getHeapUsage', {}, sessionId)).usedSize as number;
      },
      screenshot: async () => Buffer.from((await this.send('Page.captureScreenshot', { format: 'png' }, sessionId)).data, 'base64'),
      close: async () => {
        await this.send('Target.closeTarget', { targetId });
      },
    };
  }

  /** Polls expression in the tab until it is truthy; returns its value. */
  static async waitFor(tab: { evaluate: (e: string) => Promise<any> }, expression: string, timeoutMs = 20000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await tab.evaluate(expression).catch((e) => e);
      if (last && !(last instanceof Error)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${expression} (last: ${String(last)})`);
  }

  async close(): Promise<void> {
    this.socket.close();
    const exited = this.child.exitCode !== null || this.child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => this.child.on('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
    // Chromium's helper processes (crashpad, GPU) may still write into the profile for a moment after the
    // browser exits: retry the removal rather than fail the test on ENOTEMPTY.
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
