// `ps` and `top` on a container whose processes name themselves to hurt the terminal (issue 11, "top with hostile
// names"): argv with OSC/CSI escapes, BEL, a newline that would forge a row, a carriage return, a tab and bytes
// that are not UTF-8; comm (the kernel's 15-byte name, shown for a zombie) with escapes too. Human output shows
// them as visible escapes, one row per process, columns intact; --json carries argv exactly (argvBytes, base64,
// where the bytes are not UTF-8).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hasCommand, porthole } from '../support/cli.js';
import { ensureStaticImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { TmuxSession } from '../support/metrics.js';
import { waitFor } from '../support/shell.js';

const HOSTILE_IMAGE = 'porthole-fixture/hostile-procs:1';
// PID 1 re-executes itself with the hostile argv, leaves a zombie child whose comm is hostile, sets its own comm.
const SOURCE = String.raw`
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--as-evil") == 0) {
    char *args[] = {"\x1b]0;pwned\x07\x1b[2J\x1b[31mred", "line1\nFAKE ROW 999", "bad\xff\xfe-utf8", "cr\rover", "tab\tsep", 0};
    execv("/app", args);
    return 1;
  }
  if (fork() == 0) {
    prctl(PR_SET_NAME, "\x1b[31mz\nq", 0, 0, 0);
    _exit(0);
  }
  prctl(PR_SET_NAME, "\x1b[2Jc\r", 0, 0, 0);
  for (;;) pause();
}
`;
const ARGV = ['\x1b]0;pwned\x07\x1b[2J\x1b[31mred', 'line1\nFAKE ROW 999', null, 'cr\rover', 'tab\tsep'];
const BAD_ARG = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe]), Buffer.from('-utf8')]);
const SHOWN = String.raw`\e]0;pwned\x07\e[2J\e[31mred line1\nFAKE ROW 999 bad\xff\xfe-utf8 cr\rover tab\tsep`;

const box = uniqueName('hostile-procs');

before(async () => {
  ensureStaticImage(HOSTILE_IMAGE, SOURCE, ['CMD ["--as-evil"]']);
  runContainer(box, [], HOSTILE_IMAGE);
  await waitFor('the zombie', async () => /"stat": "Z/.test((await porthole(['ps', box, '--json'])).stdout));
});

after(() => removeContainers(box));

interface Row {
  pid: number | null;
  role: string;
  command: string;
  argv: string[] | null;
  argvBytes?: string[];
  stat: string | null;
}

test('ps --json carries argv exactly: text where it is UTF-8, every argument\'s bytes (base64) where not', async () => {
  const r = await porthole(['ps', box, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Row[];
  const init = rows.find((x) => x.role === 'init')!;
  assert.equal(init.pid, 1);
  ARGV.forEach((arg, i) => arg !== null && assert.equal(init.argv![i], arg));
  assert.equal(init.argv!.length, 5);
  assert.deepEqual(
    init.argvBytes!.map((b) => Buffer.from(b, 'base64')),
    ARGV.map((arg) => (arg === null ? BAD_ARG : Buffer.from(arg))),
  );
  const zombie = rows.find((x) => x.stat?.startsWith('Z'))!;
  assert.equal(zombie.command, '[\x1b[31mz\nq] <defunct>');
  assert.equal(zombie.argvBytes, undefined, 'a valid UTF-8 row carries no bytes');
});

test('ps shows hostile names escaped: one line per process, no escape reaches the terminal, columns intact', async () => {
  const json = JSON.parse((await porthole(['ps', box, '--json'])).stdout) as Row[];
  const r = await porthole(['ps', box]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Buffer.from(r.stdout, 'utf8').equals(r.stdoutBytes), 'stdout is not valid UTF-8');
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\ufffd]/, 'a control character or a lost byte reached the output');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2 + json.length, r.stdout); // the heading, the header, one line per process
  const header = lines[1]!;
  const commandAt = header.indexOf('COMMAND');
  const init = lines.find((l) => l.includes('FAKE ROW'))!;
  assert.ok(init.endsWith(SHOWN), init);
  assert.ok(lines.every((l, i) => i < 2 || /^\s*\d+ /.test(l)), 'a row that does not start with a PID');
  // every row has its STAT where the header has it, and its command starting under COMMAND
  for (const line of lines.slice(2)) assert.match(line.slice(header.indexOf('STAT'), commandAt), /^\S+\s+$/, line);
  assert.equal(init.slice(commandAt).replace(/^\s*\\_ /, ''), SHOWN, 'the command, after its tree drawing, starts under COMMAND');
  assert.ok(lines.some((l) => l.includes(String.raw`[\e[31mz\nq] <defunct>`)), r.stdout);
});

test('top shows hostile names escaped on the screen, one row each, nothing interpreted', async (t) => {
  if (!hasCommand('tmux')) return t.skip('tmux is not installed (scripts/engine-up.sh installs it)');
  const session = new TmuxSession(uniqueName('top-hostile'), ['top', box], { width: 220, height: 30 });
  try {
    const screen = await session.waitFor(/FAKE ROW 999/);
    const lines = screen.split('\n');
    const init = lines.find((l) => l.includes('FAKE ROW'))!;
    assert.ok(init.includes(SHOWN), init);
    assert.ok(!lines.some((l) => /^\s*FAKE ROW/.test(l)), 'the newline forged a row');
    assert.ok(lines.some((l) => l.includes(String.raw`[\e[31mz\nq] <defunct>`)), screen);
    // no colour from the names: the only attributes on screen are top's own (the selection, the header)
    assert.doesNotMatch(session.captureWithEscapes(), /\x1b\[31m/);
    session.keys('C-c');
    await session.waitFor(/EXIT=0/);
  } finally {
    session.kill();
  }
});
