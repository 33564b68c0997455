// Headless Chromium (Debian's, /usr/bin/chromium) driven by playwright-core, pointed at that binary: no browser
// download, no driver of our own. One browser context per launch, so a cookie set in one tab holds in the next,
// as in a person's browser. Tests see only this small interface: open a tab, evaluate, type, wait, read the heap.
import { existsSync } from 'node:fs';
import { chromium, type Browser as PlaywrightBrowser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export interface Tab {
  /** Evaluates a JavaScript expression in the page (promises awaited); returns its value. */
  evaluate: (expression: string) => Promise<any>;
  /** Text as typed (an input method's commit): goes to the focused element. */
  type: (text: string) => Promise<void>;
  key: (key: 'Enter') => Promise<void>;
  /** A real mouse click on the element (a user gesture, as the Clipboard API wants). */
  click: (selector: string) => Promise<void>;
  /** The page's JS heap in use, after a garbage collection. */
  heapBytes: () => Promise<number>;
  screenshot: () => Promise<Buffer>;
  close: () => Promise<void>;
}

export class Browser {
  private constructor(
    private readonly browser: PlaywrightBrowser,
    private readonly context: BrowserContext,
  ) {}

  /** `permissions`: granted to every page, e.g. ['clipboard-read', 'clipboard-write'] to read back what a page copied. */
  static async launch(opts: { permissions?: string[] } = {}): Promise<Browser> {
    const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: opts.permissions });
    return new Browser(browser, context);
  }

  /** Opens a tab at url. `init` runs in the page before any of its own scripts (e.g. to record CSP violations). */
  async open(url: string, opts: { init?: string } = {}): Promise<Tab> {
    const page = await this.context.newPage();
    if (opts.init) await page.addInitScript(opts.init);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    return {
      evaluate: (expression: string) => page.evaluate(expression),
      type: (text: string) => page.keyboard.insertText(text),
      key: (key) => page.keyboard.press(key),
      click: (selector) => page.click(selector),
      heapBytes: async () => {
        const cdp = await this.context.newCDPSession(page);
        try {
          await cdp.send('HeapProfiler.collectGarbage');
          return (await cdp.send('Runtime.getHeapUsage')).usedSize;
        } finally {
          await cdp.detach();
        }
      },
      screenshot: () => page.screenshot({ fullPage: true }),
      close: () => page.close(),
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
    await this.browser.close();
  }
}
