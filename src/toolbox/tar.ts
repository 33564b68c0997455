// A small tar writer for the toolbox image's root filesystem. node-tar cannot write extended attributes, and the
// toolbox needs one: the file capability (security.capability) that lets a non-root session chroot. The engine's
// import reads it from a PAX header record `SCHILY.xattr.NAME`, as GNU tar --xattrs writes it.

export interface TarEntry {
  /** Path inside the archive, relative, without a leading "./" (directories without a trailing slash). */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'link';
  mode: number;
  data?: Buffer;
  /** A symlink's target, or for a hard link the archive path of the file it names. */
  linkTarget?: string;
  /** Extended attributes, e.g. { 'security.capability': Buffer }. */
  xattrs?: Record<string, Buffer>;
  uid?: number;
  gid?: number;
  mtime?: number; // unix seconds
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar readers expect.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function writeString(header: Buffer, offset: number, width: number, value: string | Buffer): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > width) throw new Error(`tar field too long: ${value.toString()}`);
  bytes.copy(header, offset);
}

function headerBlock(name: string, typeflag: string, size: number, entry: { mode: number; uid?: number; gid?: number; mtime?: number; linkTarget?: string }): Buffer {
  const header = Buffer.alloc(BLOCK);
  let prefix = '';
  let shortName = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits a long path at a slash: prefix (155 bytes) / name (100 bytes).
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar path too long: ${name}`);
    prefix = name.slice(0, cut);
    shortName = name.slice(cut + 1);
  }
  writeString(header, 0, 100, shortName);
  writeString(header, 100, 8, octal(entry.mode & 0o7777, 8));
  writeString(header, 108, 8, octal(entry.uid ?? 0, 8));
  writeString(header, 116, 8, octal(entry.gid ?? 0, 8));
  writeString(header, 124, 12, octal(size, 12));
  writeString(header, 136, 12, octal(entry.mtime ?? 0, 12));
  header.fill(' ', 148, 156); // the checksum is computed with its own field as spaces
  writeString(header, 156, 1, typeflag);
  if (entry.linkTarget) writeString(header, 157, 100, entry.linkTarget);
  writeString(header, 257, 6, 'ustar\0');
  writeString(header, 263, 2, '00');
  writeString(header, 345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return header;
}

/** One PAX record: "<length> <key>=<value>\n", where length counts the whole record, itself included. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

/** The whole archive in memory (the toolbox is a few MB), ending with the two zero blocks. */
export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const name = entry.type === 'dir' ? `${entry.path.replace(/\/+$/, '')}/` : entry.path;
    if (entry.xattrs && Object.keys(entry.xattrs).length) {
      const records = Buffer.concat(Object.entries(entry.xattrs).map(([k, v]) => paxRecord(`SCHILY.xattr.${k}`, v)));
      parts.push(headerBlock(`PaxHeaders/${name.replace(/\/$/, '')}`.slice(0, 99), 'x', records.length, { mode: 0o644 }), ...padded(records));
    }
    const data = entry.type === 'file' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const typeflag = { file: '0', link: '1', symlink: '2', dir: '5' }[entry.type];
    parts.push(headerBlock(name, typeflag, data.length, entry));
    if (data.length) parts.push(...padded(data));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/**
 * The security.capability value (VFS_CAP_REVISION_2) that gives a file these permitted capabilities, raised
 * into the effective set on exec: what `setcap NAME+ep FILE` writes.
 */
export function fileCapability(capabilityNumbers: number[]): Buffer {
  const value = Buffer.alloc(20);
  value.writeUInt32LE(0x02000000 | 0x1, 0); // revision 2, effective bit
  let low = 0;
  let high = 0;
  for (const n of capabilityNumbers) {
    if (n < 32) low |= 1 << n;
    else high |= 1 << (n - 32);
  }
  value.writeUInt32LE(low >>> 0, 4); // permitted, low word
  value.writeUInt32LE(0, 8); // inheritable, low word
  value.writeUInt32LE(high >>> 0, 12);
  value.writeUInt32LE(0, 16);
  return value;
}

export const CAP_SYS_CHROOT = 18;
