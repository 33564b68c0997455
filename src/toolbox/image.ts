// Where the toolbox lives: the image's name and label, the folder that holds its tools inside the image, and the
// volume that carries those tools into containers made from other images (a snapshot's debug copy, a sidecar
// from a custom --toolbox image). Cheap constants only: `shell` imports this on its start-up path.

/** The default toolbox: a tool the user keeps, so no io.porthole.owned label (gc leaves it). */
export const TOOLBOX_IMAGE = 'porthole/toolbox:1';
export const TOOLBOX_REPO = 'porthole/toolbox';
export const TOOLBOX_TAG = '1';
export const TOOLBOX_LABEL = 'io.porthole.toolbox';

/** Everything porthole needs inside the toolbox, under one hidden folder. */
export const TOOLBOX_DIR = '/.porthole';
/** busybox and one link per applet. */
export const TOOLBOX_BIN = `${TOOLBOX_DIR}/bin`;
/** A static shell that works in any root filesystem. */
export const TOOLBOX_SHELL = `${TOOLBOX_BIN}/sh`;
/** A copy of busybox with the file capability CAP_SYS_CHROOT, so a non-root session can chroot. */
export const TOOLBOX_CHROOT = `${TOOLBOX_DIR}/chroot`;

/** A named volume holding TOOLBOX_DIR's contents, filled from the image by the engine on first mount. */
export const TOOLBOX_VOLUME = 'porthole-toolbox-1';
