// The tar the engine's archive or export endpoint would send for a folder of an image, made from its layers
// (entries in the engine's walk order from prepareLayerWalk, file contents read through the safe layer walk), so
// that grep -r and the like read an image without a container.
import type { LayerFile, LayerWalkEntry } from '../types.js';
import { encodeHeader, endOfArchive, padding, type EntryType } from '../../fs/pack.js';
import { decodeName } from '../../fs/tar-names.js';
import { Failure } from '../../errors.js';

const TYPES: Partial<Record<LayerWalkEntry['type'], EntryType>> = { file: 'file', dir: 'dir', symlink: 'symlink', char: 'char', block: 'block', fifo: 'fifo' };

/** Byte string (latin1) to the tar-name strings encodeHeader takes (exact bytes, see fs/tar-names.ts). */
const tarName = (bytes: string) => decodeName(Buffer.from(bytes, 'latin1'));

export async function* layerArchive(
  entries: AsyncIterable<LayerWalkEntry>,
  /** The entry's name in the archive, from its absolute path (byte strings). */
  nameOf: (path: string) => string,
  open: (path: string) => Promise<LayerFile | undefined>,
): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    const type = TYPES[e.type];
    if (!type) continue; // sockets: the engine's tar leaves them out
    const named = tarName(nameOf(e.path));
    const name = e.type === 'dir' && !named.endsWith('/') ? `${named}/` : named;
    const base = { name, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    if (e.hardlinkTo !== undefined) {
      yield encodeHeader({ ...base, type: 'hardlink', linkname: tarName(e.hardlinkTo) });
      continue;
    }
    if (type !== 'file') {
      yield encodeHeader({ ...base, type, ...(type === 'symlink' ? { linkname: tarName(e.linkTarget) } : {}) });
      continue;
    }
    const file = await open(Buffer.from(e.path, 'latin1').toString('utf8'));
    if (!file || file.size !== e.size) throw new Failure(`Could not read ${JSON.stringify(tarName(e.path))} from the image's layers.`);
    yield encodeHeader({ ...base, type: 'file', size: file.size });
    let sent = 0;
    for await (const chunk of file.chunks()) {
      const rest = file.size - sent;
      sent += Math.min(chunk.length, rest);
      yield chunk.length > rest ? chunk.subarray(0, rest) : chunk;
      if (sent === file.size) break;
    }
    if (sent < file.size) throw new Failure(`${JSON.stringify(tarName(e.path))} is shorter in the image's layers than listed.`);
    yield padding(file.size);
  }
  yield endOfArchive();
}
