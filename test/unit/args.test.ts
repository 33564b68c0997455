import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineCommand, parseCommand } from '../../src/cli/args.js';
import { calledAsPlugin, parseGlobal, parseInvocation } from '../../src/cli/global.js';
import { InvalidArgument } from '../../src/errors.js';

const shellLike = defineCommand({
  name: 'shell',
  summary: '',
  usage: 'porthole shell C [-- CMD]',
  options: {
    user: { type: 'string', short: 'u', description: '' },
    env: { type: 'string', short: 'e', multiple: true, description: '' },
    interactive: { type: 'boolean', short: 'i', description: '' },
  },
  args: { min: 1, max: 1 },
  restAfter: 1,
});

test('options before the container, the command after it', () => {
  const p = parseCommand(shellLike, ['-u', 'root', '-e', 'A=1', '--env=B=2', 'c1', 'ls', '-l', '-u']);
  assert.deepEqual(p.args, ['c1']);
  assert.deepEqual(p.rest, ['ls', '-l', '-u']);
  assert.equal(p.options.user, 'root');
  assert.deepEqual(p.options.env, ['A=1', 'B=2']);
  assert.equal(p.hasRest, true);
});

test('`--` separates the command, with or without words before it', () => {
  assert.deepEqual(parseCommand(shellLike, ['c1', '--', 'sh', '-c', 'x']).rest, ['sh', '-c', 'x']);
  assert.deepEqual(parseCommand(shellLike, ['-uroot', 'c1', '--', '--weird']).rest, ['--weird']);
  const bare = parseCommand(shellLike, ['c1']);
  assert.equal(bare.hasRest, false);
  assert.deepEqual(bare.rest, []);
});

test('options after the container, closed by a later `--`, are options (issue 16: shell C --cap-add X -- strace)', () => {
  const p = parseCommand(shellLike, ['c1', '-u', 'root', '--env', 'A=1', '--', 'strace', '-p', '1']);
  assert.deepEqual(p.args, ['c1']);
  assert.equal(p.options.user, 'root');
  assert.deepEqual(p.options.env, ['A=1']);
  assert.deepEqual(p.rest, ['strace', '-p', '1']);
  // Without a later `--` the words stay the command, as docker exec takes them.
  assert.deepEqual(parseCommand(shellLike, ['c1', '-u', 'root']).rest, ['-u', 'root']);
  // A command that is not one of ours keeps its own `--`.
  assert.deepEqual(parseCommand(shellLike, ['c1', 'ls', '-u', '--', 'x']).rest, ['ls', '-u', '--', 'x']);
});

test('unknown flags and missing arguments are usage errors', () => {
  assert.throws(() => parseCommand(shellLike, ['--nope', 'c']), InvalidArgument);
  assert.throws(() => parseCommand(shellLike, []), /needs an argument/);
});

test('global flags come before the command', () => {
  const g = parseGlobal(['-H', 'tcp://x:1', '--context=foo', 'ps', '-a']);
  assert.equal(g.host, 'tcp://x:1');
  assert.equal(g.context, 'foo');
  assert.deepEqual(g.rest, ['ps', '-a']);
  assert.throws(() => parseGlobal(['--what', 'ps']), InvalidArgument);
});

test('as a docker CLI plugin: docker\'s global flags, then ours after `porthole`; ours win, docker\'s fill the gaps', () => {
  assert.equal(calledAsPlugin({ DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: 'docker' }, '/usr/bin/porthole'), true);
  assert.equal(calledAsPlugin({}, '/home/u/.docker/cli-plugins/docker-porthole'), true);
  assert.equal(calledAsPlugin({}, '/usr/local/bin/porthole'), false);
  const g = parseInvocation(['-H', 'tcp://docker:1', '--tlsverify', '-D', 'porthole', '-n', 'shop', 'why', 'web'], true);
  assert.equal(g.host, 'tcp://docker:1');
  assert.equal(g.namespace, 'shop');
  assert.equal(g.tls.tlsVerify, true);
  assert.equal(g.debug, true);
  assert.deepEqual(g.rest, ['why', 'web']);
  assert.equal(parseInvocation(['-H', 'tcp://docker:1', 'porthole', '-H', 'unix:///ours.sock', 'ps'], true).host, 'unix:///ours.sock');
  // not a plugin call: `porthole` is just the first word (no such command; main.ts says so)
  assert.deepEqual(parseInvocation(['porthole', 'ps'], false).rest, ['porthole', 'ps']);
});

test('a string option takes the next word even when it starts with a dash', () => {
  const findLike = defineCommand({
    name: 'find',
    summary: '',
    usage: '',
    options: { size: { type: 'string', description: '' }, user: { type: 'string', short: 'u', description: '' }, all: { type: 'boolean', short: 'a', description: '' } },
    args: { min: 0, max: 2 },
  });
  const p = parseCommand(findLike, ['c', '--size', '-4k', '-u', '-1', '-a']);
  assert.equal(p.options.size, '-4k');
  assert.equal(p.options.user, '-1');
  assert.equal(p.options.all, true);
  assert.deepEqual(p.args, ['c']);
});
