// docker cp's CVE-2018-15664, played for real against porthole's direct layer reads: a running container swaps a
// folder on the path (/d, holding the file asked for) with a link to a folder on the HOST (/dl -> a canary folder
// this test makes under /tmp), with renameat2(RENAME_EXCHANGE) in a tight loop. A reader that looks a layer path
// up by name follows that link on the host and shows the host's file as the container's. The canary must be seen
// zero times: by the layer reader itself (thousands of reads, in process), and by the built CLI's cat, cp, grep,
// why, ls, find and du (hundreds of runs, a few at a time). Bounded: the swapper is removed when each test ends (and stops itself after 15 minutes).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLayerFile, type InspectDoc } from '../../src/engine/docker/layer.js';
import { porthole } from '../support/cli.js';
import { docker, ensureStaticImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';

const SWAPPER_IMAGE = 'porthole-fixture/swapper:1';
// The container writes its own file and log, names the file in its output (for why's "the line it points at"),
// plants the link to the host folder it is given, then swaps /d and /dl for `seconds`.
const SWAPPER = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) { perror(path); exit(2); }
  fputs(text, f);
  fclose(f);
}
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  mkdir("/d", 0755);
  put("/d/secret.txt", "container-own-line\n");
  put("/d/app.log", "container log: failed reading /d/secret.txt:1\n");
  if (symlink(argv[1], "/dl") != 0) { perror("symlink"); return 2; }
  printf("error: bad value in /d/secret.txt:1\n");
  fflush(stdout);
  time_t end = time(0) + atoi(argv[2]);
  unsigned long n = 0;
  while (time(0) < end)
    for (int i = 0; i < 10000; i++, n++) renameat2(AT_FDCWD, "/d", AT_FDCWD, "/dl", RENAME_EXCHANGE);
  // leave /d as the folder, whichever way the last swap went
  struct stat st;
  if (lstat("/d", &st) == 0 && S_ISLNK(st.st_mode)) renameat2(AT_FDCWD, "/d", AT_FDCWD, "/dl", RENAME_EXCHANGE);
  printf("swapped %lu times\n", n);
  return 0;
}
`;

const CANARY = `HOST-CANARY-${process.pid}-${Date.now()}`;
let hostDir = '';
let outDir = '';
const made: string[] = [];

before(() => {
  ensureStaticImage(SWAPPER_IMAGE, SWAPPER);
  hostDir = mkdtempSync(join(tmpdir(), 'pt-race-canary-'));
  // the host folder holds the same names as the container's /d, with the canary in them, and a name of its own
  writeFileSync(join(hostDir, 'secret.txt'), `${CANARY}\n`);
  writeFileSync(join(hostDir, 'app.log'), `${CANARY} error in /d/secret.txt:1\n`);
  writeFileSync(join(hostDir, `${CANARY}.name`), `${CANARY}\n`);
  outDir = mkdtempSync(join(tmpdir(), 'pt-race-out-'));
});
after(() => {
  removeContainers(...made);
  rmSync(hostDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

/** A running container swapping /d with a link to the host canary folder for `seconds`. */
async function swapping(seconds: number): Promise<string> {
  const name = uniqueName('race');
  made.push(name);
  runContainer(name, [], SWAPPER_IMAGE, [hostDir, String(seconds)]);
  // the swapping has begun once the container printed its line
  for (let i = 0; i < 100 && !docker(['logs', name]).includes('error:'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(docker(['logs', name]), /error: bad value/);
  return name;
}

function stillSwapping(name: string): void {
  assert.equal(docker(['inspect', '-f', '{{.State.Running}}', name]), 'true', 'the swapper ran for the whole test');
}

/** Runs `count` jobs, `width` at a time. */
async function pool<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await job(i);
    }
  }));
  return out;
}

test('the layer reader, 20,000 reads of a file whose folder is being swapped with a link to the host: never the host file', async () => {
  const name = await swapping(900);
  const doc = JSON.parse(docker(['inspect', name]))[0] as InspectDoc;
  assert.equal(doc.GraphDriver?.Name, 'overlay2', 'the direct reads need overlay2');
  let own = 0;
  let unsure = 0;
  let canary = 0;
  for (let i = 0; i < 20000; i++) {
    // the file is the container's own: the engine's stat is never needed (it would be asked only for an image file)
    const file = await openLayerFile(doc, '/d/secret.txt', async () => undefined);
    if (!file) {
      unsure++;
      continue;
    }
    const chunks: Buffer[] = [];
    file.read((b) => (chunks.push(b), true), 1 << 20);
    const text = Buffer.concat(chunks).toString();
    if (text.includes('HOST-CANARY')) canary++;
    else if (text === 'container-own-line\n') own++;
    else assert.fail(`read neither file: ${JSON.stringify(text)}`);
  }
  stillSwapping(name);
  removeContainers(name);
  assert.equal(canary, 0, `the host's canary was read ${canary} times (own ${own}, unsure ${unsure})`);
  // the race was real: some reads met the link and answered "not for sure", and most found the folder
  assert.ok(unsure > 0 && own > 0, `own ${own}, unsure ${unsure}`);
});

test('cat, cp, grep, why, ls, find and du through the CLI against the swapping container: the canary is seen zero times', { timeout: 240_000 }, async () => {
  const name = await swapping(900);
  const runs: [string, string[]][] = [];
  for (let i = 0; i < 60; i++) runs.push(['cat', ['cat', name, '/d/secret.txt']]);
  for (let i = 0; i < 60; i++) runs.push(['cp', ['cp', '-q', `${name}:/d/secret.txt`, join(outDir, `copy-${i}`)]]);
  for (let i = 0; i < 60; i++) runs.push(['grep', ['grep', name, 'line', '/d/secret.txt']]);
  for (let i = 0; i < 40; i++) runs.push(['why', ['why', name]]);
  for (let i = 0; i < 30; i++) runs.push(['ls', ['ls', '-l', name, '/d']]);
  for (let i = 0; i < 5; i++) runs.push(['find', ['find', name, '/d']]);
  for (let i = 0; i < 5; i++) runs.push(['du', ['du', '--all', name, '/d']]);
  const results = await pool(runs.length, 3, async (i) => {
    const [kind, args] = runs[i]!;
    const r = await porthole(args, { timeoutMs: 60_000 });
    return { kind, code: r.code, out: r.stdout + r.stderr };
  });
  stillSwapping(name);
  removeContainers(name);
  const hits = results.filter((r) => r.out.includes('HOST-CANARY'));
  const copied = readdirSync(outDir).filter((f) => readFileSync(join(outDir, f), 'utf8').includes('HOST-CANARY'));
  assert.deepEqual(hits.map((h) => `${h.kind}: ${h.out.slice(Math.max(0, h.out.indexOf('HOST-CANARY') - 600), h.out.indexOf('HOST-CANARY') + 200)}`), [], 'no output showed the host file or its name');
  assert.deepEqual(copied, [], 'no copy holds the host file');
  // each command did its work on the container's own file (some runs meet the link and say so instead)
  for (const kind of ['cat', 'cp', 'grep', 'why']) {
    const ok = results.filter((r) => r.kind === kind && r.code === 0);
    assert.ok(ok.length > 0, `${kind} never succeeded: ${results.find((r) => r.kind === kind)?.out}`);
  }
  assert.ok(results.some((r) => r.kind === 'cat' && r.code === 0 && r.out.includes('container-own-line')));
  // ls -l of the swapped folder: its own entries, or the link itself, or a sentence that it changed and a failure;
  // never an empty listing called a success
  // The way left last time: the engine sent the folder empty (it read through the link) and the layers could not
  // answer (they met the link): the engine is now asked again with a fresh stat (source.ts engineWalk). 0 empty in
  // 90 runs under a load of 16-25 after that (2 in 30 once before it; 13 in 30 before the first fix); one is allowed
  // for three unlucky reads in a row on a loaded machine.
  const empty = results.filter((x) => x.kind === 'ls' && x.code === 0 && x.out === '');
  assert.ok(empty.length <= 1, `ls -l listed nothing and succeeded ${empty.length} times in 30`);
  for (const r of results.filter((x) => x.kind === 'ls' && !empty.includes(x))) {
    // a success lists the folder's own names, or the link itself. The engine's archive walks by path, so a swap in
    // the middle of it can drop a name that the link hid at that moment (app.log alone, once in a CI run): that is
    // still only the container's own, never the host's (checked above for every run)
    if (r.code === 0) assert.match(r.out, /^(?:[^\n]* (?:secret\.txt|app\.log)\n)+$|-> /, `ls -l exited 0 with: ${JSON.stringify(r.out)}`);
    else {
      // one sentence, most often porthole's own "changed while porthole read it"; the engine's own failures under the
      // swap (its archive walk reads by path too) come through as its sentence
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /^porthole: [^\n]+\n(?:[^\n]*\n)?$/, `ls -l exited ${r.code} with: ${JSON.stringify(r.out)}`);
      assert.doesNotMatch(r.out, /\n\s+at /);
    }
  }
  const lsKinds = results.filter((x) => x.kind === 'ls').map((x) => x.code);
  console.log(`ls -l: ${empty.length} empty, ${lsKinds.filter((c) => c === 0).length} listed, ${lsKinds.filter((c) => c !== 0).length} said it changed`);
  assert.ok(results.some((r) => r.kind === 'ls' && r.code !== 0 && /changed while porthole read it/.test(r.out)), 'the swap was seen by ls -l at least once');
  assert.ok(readdirSync(outDir).some((f) => readFileSync(join(outDir, f), 'utf8') === 'container-own-line\n'));
});
