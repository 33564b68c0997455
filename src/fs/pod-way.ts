// How the file commands (ls, cat, find, grep, cp) reach a pod container's files: with the container's own tools
// through exec; when it lacks them (no sh, no tar: a distroless or static image), through porthole's ephemeral
// toolbox container chrooted to the container's root (/proc/1/root). The toolbox follows shell's rules: one
// already in the pod for that container is reused; adding one is said first (Kubernetes cannot remove it), asked
// on a terminal, and needs --yes without one; the image is --toolbox IMAGE or PORTHOLE_K8S_TOOLBOX. With none of
// those, the error names what is missing and how to get it.
import type { Context } from '../context.js';
import type { KubeCluster } from '../engine/kubernetes/index.js';
import type { Pod } from '../engine/kubernetes/wire.js';
import type { PodFileTarget } from '../engine/kubernetes/pod-files.js';
import { InvalidArgument } from '../errors.js';
import { escapeName } from '../render/escape.js';

/** The flags of the file commands that decide the toolbox (shell's, with the same names). */
export const podToolboxOptions = {
  toolbox: { type: 'string', valueName: 'IMAGE', description: 'Pods: reach the files through an ephemeral toolbox container from this image (adds one, which Kubernetes cannot remove)' },
  yes: { type: 'boolean', short: 'y', description: 'Pods: agree to adding an ephemeral toolbox container' },
  profile: { type: 'string', valueName: 'NAME', description: "Pods: the toolbox container's security profile: general (default), baseline, sysadmin" },
} as const;

export interface ToolboxChoice {
  toolbox?: string;
  yes?: boolean;
  profile?: string;
}

export class PodTools {
  private via: PodFileTarget['via'];

  constructor(
    private readonly ctx: Context,
    private readonly cluster: KubeCluster,
    private readonly pod: Pod,
    readonly target: PodFileTarget,
    private readonly choice: ToolboxChoice,
  ) {}

  /** Runs `op` with the container's own tools, or through the toolbox when it lacks them (nothing ran then). */
  async run<T>(op: (t: PodFileTarget) => Promise<T>): Promise<T> {
    if (this.choice.toolbox && !this.via) await this.useToolbox(this.choice.toolbox, undefined);
    if (this.via) return op({ ...this.target, via: this.via });
    const { MissingTool } = await import('../engine/kubernetes/pod-files.js');
    try {
      return await op(this.target);
    } catch (err) {
      if (!(err instanceof MissingTool) || err.target.via) throw err;
      const { findToolbox } = await import('../engine/kubernetes/ephemeral.js');
      const configured = this.ctx.env.PORTHOLE_K8S_TOOLBOX;
      // No toolbox to use or add: the error says what is missing and how to get it.
      if (!findToolbox(this.pod, this.target.container) && !configured) throw err;
      await this.useToolbox(configured ?? '', err.tool);
      return op({ ...this.target, via: this.via });
    }
  }

  private async useToolbox(image: string, missing: string | undefined): Promise<void> {
    const ephemeral = await import('../engine/kubernetes/ephemeral.js');
    const { toolboxFilesCommand } = await import('../engine/kubernetes/pod-tar.js');
    const podName = this.pod.metadata.name;
    const namespace = this.pod.metadata.namespace ?? this.cluster.namespace;
    const why = missing ? `container ${this.target.container} has no ${missing}; ` : '';
    const existing = ephemeral.findToolbox(this.pod, this.target.container);
    let name: string;
    let used = image;
    if (existing) {
      name = existing.name;
      used = existing.image;
      this.ctx.notice(`porthole: ${why}reading through the toolbox container ${name} already in pod/${podName}${image && existing.image !== image ? ` (image ${escapeName(existing.image)})` : ''}.`);
    } else {
      const profile = (this.choice.profile ?? 'general') as (typeof ephemeral.PROFILES)[number];
      if (!ephemeral.PROFILES.includes(profile)) throw new InvalidArgument(`"${escapeName(profile)}" is not a toolbox profile.`, `Use one of: ${ephemeral.PROFILES.join(', ')}.`);
      if (why) this.ctx.notice(`porthole: ${why.replace(/; $/, '.')}`);
      const { confirmToolbox } = await import('../enter/pod.js');
      await confirmToolbox(this.ctx, { yes: this.choice.yes }, podName, image, 'reading files through a toolbox');
      const [{ sessionId }, { hostname }] = await Promise.all([import('../enter/session.js'), import('node:os')]);
      name = `${ephemeral.TOOLBOX_PREFIX}${sessionId()}`;
      await ephemeral.addToolbox(
        this.cluster,
        this.pod,
        ephemeral.toolboxSpec({ name, image, target: this.target.container, session: sessionId(), pid: process.pid, host: hostname(), securityContext: ephemeral.profileContext(profile, this.pod, this.target.container) }),
      );
    }
    await ephemeral.waitToolbox(this.cluster, namespace, podName, name, this.ctx.signal);
    this.via = { container: name, wrap: toolboxFilesCommand, image: used };
  }
}
