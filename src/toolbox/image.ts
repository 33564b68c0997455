// Where the toolbox lives: the image's name and label, the folder that holds its tools inside the image, and the
// volume that carries those tools into containers made from other images (a snapshot's debug copy, a sidecar
// from a custom --toolbox image). Cheap constants only: `shell` imports this on its start-up path.

/** The default toolbox: a tool the user keeps, so no io.porthole.owned label (gc leaves it). */
export const DEFAULT_TOOLBOX_IMAGE = 'porthole/toolbox:1';
export const TOOLBOX_LABEL = 'io.porthole.toolbox';
/** Names another toolbox image (one pushed to your own registry, or a test's own). */
export const TOOLBOX_IMAGE_ENV = 'PORTHOLE_TOOLBOX_IMAGE';

/** Everything porthole needs inside the toolbox, under one hidden folder. */
export const TOOLBOX_DIR = '/.porthole';
/** busybox and one link per applet. */
export const TOOLBOX_BIN = `${TOOLBOX_DIR}/bin`;
/** A static shell that works in any root filesystem. */
export const TOOLBOX_SHELL = `${TOOLBOX_BIN}/sh`;
/** A copy of busybox with the file capability CAP_SYS_CHROOT, so a non-root session can chroot. */
export const TOOLBOX_CHROOT = `${TOOLBOX_DIR}/chroot`;

/** The toolbox image this process uses. */
export function toolboxImage(env: NodeJS.ProcessEnv): string {
  return env[TOOLBOX_IMAGE_ENV] || DEFAULT_TOOLBOX_IMAGE;
}

/** The image reference split as the engine's import wants it. */
export function splitImageRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

/** A named volume holding TOOLBOX_DIR's contents, filled from the image by the engine on first mount. */
export function toolboxVolume(image: string): string {
  if (image === DEFAULT_TOOLBOX_IMAGE) return 'porthole-toolbox-1';
  return `porthole-toolbox-${image.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '')}`;
}
