// A full-screen view over plain ANSI: the alternate screen, a hidden cursor, raw keys, and frames drawn by moving
// the cursor home and overwriting each line (clearing only what is left of it), so a refresh never flickers.
// The terminal is given back on every way out: leave(), the cleanup registry (signals, errors) and process 'exit'.
import type { InputStream, OutputStream } from '../context.js';

export const ESC = '\x1b';
export const ALT_SCREEN_ON = `${ESC}[?1049h`;
export const ALT_SCREEN_OFF = `${ESC}[?1049l`;
export const CURSOR_HIDE = `${ESC}[?25l`;
export const CURSOR_SHOW = `${ESC}[?25h`;
export const CURSOR_HOME = `${ESC}[H`;
export const CLEAR_LINE_END = `${ESC}[K`;
export const CLEAR_BELOW = `${ESC}[J`;
export const REVERSE = `${ESC}[7m`;
export const BOLD = `${ESC}[1m`;
export const RESET = `${ESC}[0m`;

const active = new Set<Screen>();
let exitHook = false;

/** What is drawn in one frame: one string per screen row, already fitted to the width (see text.ts). */
export type Frame = string[];

export class Screen {
  private readonly out: OutputStream;
  private readonly input: InputStream;
  private entered = false;
  private raw = false;
  private keyListener: ((data: Buffer) => void) | undefined;

  constructor(out: OutputStream, input: InputStream) {
    this.out = out;
    this.input = input;
  }

  get columns(): number {
    return this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
  }

  get rows(): number {
    return this.out.rows && this.out.rows > 0 ? this.out.rows : 24;
  }

  /** Switches to the alternate screen, hides the cursor, and (when stdin is a terminal) reads keys raw. */
  enter(onKey?: (data: Buffer) => void): void {
    if (this.entered) return;
    if (!exitHook) {
      exitHook = true;
      // Last resort for a crash or a process.exit() elsewhere: synchronous, so it runs before the process ends.
      process.on('exit', () => {
        for (const screen of [...active]) screen.leave();
      });
    }
    this.entered = true;
    active.add(this);
    this.out.write(ALT_SCREEN_ON + CURSOR_HIDE + CURSOR_HOME + CLEAR_BELOW);
    if (this.input.isTTY && typeof this.input.setRawMode === 'function') {
      this.input.setRawMode(true);
      this.raw = true;
    }
    if (onKey) {
      this.keyListener = onKey;
      this.input.on('data', onKey);
      this.input.resume();
    }
  }

  /** Gives the terminal back as it was: raw mode off, cursor shown, the normal screen with its old contents. */
  leave(): void {
    if (!this.entered) return;
    this.entered = false;
    active.delete(this);
    if (this.keyListener) {
      this.input.off('data', this.keyListener);
      this.keyListener = undefined;
    }
    if (this.raw) {
      this.raw = false;
      try {
        this.input.setRawMode?.(false);
      } catch {
        // the terminal went away (hangup): nothing to restore
      }
    }
    this.input.pause();
    try {
      this.out.write(RESET + CURSOR_SHOW + ALT_SCREEN_OFF);
    } catch {
      // stdout closed: nothing to restore
    }
  }

  get isActive(): boolean {
    return this.entered;
  }

  /** Draws a frame in one write: home, each line then clear-to-end-of-line, then clear whatever is below. */
  draw(frame: Frame): void {
    if (!this.entered) return;
    const lines = frame.slice(0, this.rows);
    this.out.write(CURSOR_HOME + lines.map((l) => l + RESET + CLEAR_LINE_END).join('\r\n') + CLEAR_BELOW);
  }
}
