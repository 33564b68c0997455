import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, porthole } from '../support/cli.js';
import { docker, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { ensureNginxCrashImage, stableFingerprint, waitFor } from '../support/crash.js';

const made: string[] = [];
after(() => removeContainers(...made));
before(async () => {
  ensureBusyboxImage();
  await ensureNginxCrashImage();
});

/** A stopped container holding /etc/app.conf (0640, owned 33:33) and a link to it. */
async function stoppedWithConfig(): Promise<string> {
  const name = uniqueName('edit');
  made.push(name);
  runContainer(name, [], undefined, ['sh', '-c', 'printf "a=1\\nb=2\\n" > /etc/app.conf; chown 33:33 /etc/app.conf; chmod 640 /etc/app.conf; ln -s app.conf /etc/link.conf']);
  await waitFor(name, (s) => s.Status === 'exited');
  return name;
}

/** `tar tv` of one path in the container, as the engine archives it: mode, numeric owner. */
function listing(name: string, path: string): string {
  const tar = execFileSync('docker', ['cp', `${name}:${path}`, '-'], { maxBuffer: 1 << 24 });
  const line = execFileSync('tar', ['-tv', '--numeric-owner'], { input: tar, encoding: 'utf8' }).trim();
  return line.split(/\s+/).slice(0, 2).join(' ');
}

function content(name: string, path: string): string {
  const tar = execFileSync('docker', ['cp', `${name}:${path}`, '-'], { maxBuffer: 1 << 24 });
  return execFileSync('tar', ['-xO'], { input: tar, encoding: 'utf8' });
}

function editorScript(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pt-editor-'));
  const path = join(dir, 'editor.sh');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('edit writes the change back into a stopped container, keeping mode and owner, and says so first', async () => {
  const name = await stoppedWithConfig();
  assert.equal(listing(name, '/etc/app.conf'), '-rw-r----- 33/33');
  const tmp = mkdtempSync(join(tmpdir(), 'pt-edit-tmp-'));
  const r = await porthole(['edit', name, '/etc/app.conf'], { env: { EDITOR: 'sed -i s/a=1/a=42/', VISUAL: undefined, TMPDIR: tmp } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /writing \/etc\/app\.conf back into .*: this changes the container\./);
  assert.match(r.stdout, /^wrote \/etc\/app\.conf in .* \(8 -> 9 bytes\)$/m);
  assert.equal(content(name, '/etc/app.conf'), 'a=42\nb=2\n');
  assert.equal(listing(name, '/etc/app.conf'), '-rw-r----- 33/33');
  assert.equal(docker(['inspect', '-f', '{{.State.Status}}', name]), 'exited', 'edit alone does not start it');
  assert.deepEqual(readdirSync(tmp), [], 'the temporary copy was removed');
});

test('VISUAL wins over EDITOR; an editor script gets the temporary copy as its last argument', async () => {
  const name = await stoppedWithConfig();
  const script = editorScript('case "$1" in */app.conf) echo c=3 >> "$1";; *) exit 9;; esac');
  const r = await porthole(['edit', name, '/etc/app.conf'], { env: { VISUAL: script, EDITOR: 'false' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(content(name, '/etc/app.conf'), 'a=1\nb=2\nc=3\n');
});

test('an unchanged file is not written: the container stays exactly as it was', async () => {
  const name = await stoppedWithConfig();
  const before = stableFingerprint(name);
  const since = (Date.now() / 1000).toFixed(3);
  const r = await porthole(['edit', name, '/etc/app.conf'], { env: { EDITOR: 'true', VISUAL: undefined } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no change to \/etc\/app\.conf; the container was not touched/);
  assert.doesNotMatch(r.stderr, /this changes the container/);
  assert.deepEqual(stableFingerprint(name), before);
  const id = docker(['inspect', '-f', '{{.Id}}', name]);
  const events = docker(['events', '--since', since, '--until', ((Date.now() + 100) / 1000).toFixed(3), '--filter', `container=${id}`, '--format', '{{.Action}}']);
  assert.doesNotMatch(events, /extract-to-dir/);
});

test('a failing editor writes nothing and says so', async () => {
  const name = await stoppedWithConfig();
  const r = await porthole(['edit', name, '/etc/app.conf'], { env: { EDITOR: editorScript('echo x >> "$1"; exit 3'), VISUAL: undefined } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /The editor .* exited with 3; nothing was written to the container\./);
  assert.equal(content(name, '/etc/app.conf'), 'a=1\nb=2\n');
  const missing = await porthole(['edit', name, '/etc/app.conf'], { env: { EDITOR: 'pt-no-such-editor', VISUAL: undefined } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /The editor "pt-no-such-editor" was not found; nothing was written\./);
});

test('a link is followed inside the container: the target is edited, the link stays a link', async () => {
  const name = await stoppedWithConfig();
  const r = await porthole(['edit', name, '/etc/link.conf'], { env: { EDITOR: 'sed -i s/b=2/b=7/', VISUAL: undefined } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\/etc\/link\.conf is a link; editing \/etc\/app\.conf/);
  assert.equal(content(name, '/etc/app.conf'), 'a=1\nb=7\n');
  assert.match(listing(name, '/etc/link.conf'), /^lrwxrwxrwx/);
});

test('bad targets: a directory, a missing file, a missing container', async () => {
  const name = await stoppedWithConfig();
  const dir = await porthole(['edit', name, '/etc'], { env: { EDITOR: 'true' } });
  assert.equal(dir.code, 2);
  assert.match(dir.stderr, /\/etc is a directory/);
  const missing = await porthole(['edit', name, '/etc/nope.conf'], { env: { EDITOR: 'true' } });
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /No such file in the container: \/etc\/nope\.conf\./);
  assert.ok(missing.stderr.endsWith(`porthole edit changes files that exist; check the path with \`porthole ls ${name} /etc\`.\n`), missing.stderr);
  const nobody = await porthole(['edit', 'pt-no-such-container-x', '/etc/x'], { env: { EDITOR: 'true' } });
  assert.equal(nobody.code, 3);
});

test('edit --start on the nginx crash: fixed, started, and it stays up', async () => {
  const name = uniqueName('edit-nginx');
  made.push(name);
  docker(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', 'porthole-fixture/nginx-crash:1']);
  await waitFor(name, (s) => s.Status === 'exited');
  const r = await porthole(['edit', name, '/etc/nginx/nginx.conf', '--start', '--watch', '3'], {
    env: { EDITOR: 'sed -i s/invalid_directive;//', VISUAL: undefined },
    timeoutMs: 30000,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /started and stays up \(watched 3\.\d s\)/);
  assert.equal(JSON.parse(docker(['inspect', '-f', '{{json .State.Running}}', name])), true);
  assert.equal(docker(['exec', name, 'wget', '-qO-', 'http://127.0.0.1/']), 'hello from the porthole demo');
  assert.match(docker(['diff', name]), /^C \/etc\/nginx\/nginx\.conf$/m);
});

test('edit --start when the fix is not enough: it dies again and the why report says why (exit 1)', async () => {
  const name = uniqueName('edit-nginx-bad');
  made.push(name);
  docker(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', 'porthole-fixture/nginx-crash:1']);
  await waitFor(name, (s) => s.Status === 'exited');
  // the "fix" breaks line 4 instead of fixing line 1
  const r = await porthole(['edit', name, '/etc/nginx/nginx.conf', '--start', '--watch', '3'], {
    env: { EDITOR: 'sed -i s/invalid_directive;/events_typo;/', VISUAL: undefined },
    timeoutMs: 30000,
  });
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stdout, /stopped again; here is why:/);
  assert.match(r.stdout, /unknown directive "events_typo" in \/etc\/nginx\/nginx\.conf:1/);
  assert.match(r.stdout, /> 1 \| events_typo;/);
});

test('edit works on a running container too', async () => {
  const name = uniqueName('edit-running');
  made.push(name);
  runContainer(name, [], undefined, ['sh', '-c', 'echo v=1 > /tmp/live.conf; exec sleep 300']);
  await waitFor(name, (s) => s.Running);
  await new Promise((r) => setTimeout(r, 300));
  const r = await porthole(['edit', name, '/tmp/live.conf', '--start'], { env: { EDITOR: 'sed -i s/v=1/v=2/', VISUAL: undefined } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /was already running/);
  assert.equal(docker(['exec', name, 'cat', '/tmp/live.conf']), 'v=2');
});

test('a real editor in a real terminal: busybox vi, keys typed once the file is on screen, Ctrl-C left to the editor', async () => {
  const name = await stoppedWithConfig();
  // script(1) gives porthole and the editor a pseudo-terminal; keys are typed only after vi drew the file,
  // because vi flushes typeahead when it switches the terminal to raw mode.
  const child = spawn('script', ['-qec', `exec ${BIN} edit ${name} /etc/app.conf`, '/dev/null'], {
    // exec: porthole is script's child, with no shell waiting in the same process group to die of the Ctrl-C
    env: { ...process.env, EDITOR: 'busybox vi', VISUAL: '', TERM: 'xterm', SHELL: '/bin/bash' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout.on('data', (d) => (screen += d));
  const deadline = Date.now() + 20000;
  while (!screen.includes('b=2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(screen.includes('b=2'), `vi never showed the file: ${JSON.stringify(screen.slice(-300))}`);
  // Ctrl-C belongs to the editor while it runs (as with git): porthole must not die and drop the edit
  child.stdin.write('\x03');
  await new Promise((r) => setTimeout(r, 300));
  child.stdin.write('dd');
  await new Promise((r) => setTimeout(r, 300));
  child.stdin.write(':wq\r');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, screen.slice(-500));
  assert.match(screen, /this changes the container/);
  assert.equal(content(name, '/etc/app.conf'), 'b=2\n');
  assert.equal(listing(name, '/etc/app.conf'), '-rw-r----- 33/33');
});
