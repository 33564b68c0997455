// Helpers for `porthole edit`: which editor to run and how, and the one-file tar that writes the result back.
import { InvalidArgument } from '../errors.js';

/** $VISUAL, then $EDITOR, then vi, as git and crontab choose. */
export function chooseEditor(env: NodeJS.ProcessEnv): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi';
}

/**
 * Splits an editor setting into words, honouring single and double quotes and backslashes, without a shell:
 * `code --wait` and `sed -i s/a;//` both work, and the file name is passed as its own argument, never pasted
 * into a command line.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new InvalidArgument(`The editor setting "${text}" has an unclosed quote.`, 'Fix $VISUAL or $EDITOR.');
  if (inWord) words.push(word);
  if (!words.length) throw new InvalidArgument('The editor setting is empty.', 'Set $VISUAL or $EDITOR.');
  return words;
}

export interface TarFile {
  name: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: Date;
}

/** A tar stream holding one regular file, with a PAX header when a field does not fit the classic one. */
export async function singleFileTar(file: TarFile): Promise<Buffer> {
  const [{ Header }, { Pax }] = await Promise.all([import('tar/header'), import('tar/pax')]);
  const fields = {
    path: file.name,
    mode: file.mode & 0o7777,
    uid: file.uid,
    gid: file.gid,
    size: file.content.length,
    mtime: file.mtime,
    type: 'File' as const,
    uname: file.uname,
    gname: file.gname,
  };
  const header = new Header(fields);
  const block = Buffer.alloc(512);
  header.encode(block, 0);
  const parts: Buffer[] = [];
  if (header.needPax) parts.push(new Pax({ ...fields, atime: undefined, ctime: undefined } as never).encode());
  parts.push(block, file.content);
  const pad = (512 - (file.content.length % 512)) % 512;
  parts.push(Buffer.alloc(pad), Buffer.alloc(1024));
  return Buffer.concat(parts);
}
