// The floor for `why service/NAME` on Node: a bare program that asks the same five questions porthole asks (the
// manager's service, tasks and nodes at once; then the failed task's container's inspect and logs on its node at
// once) over raw sockets and prints one line. No flags, no discovery, no report, no code of porthole's: what Node's
// own start and the engines' answers cost. bench/swarm.bench.mjs times it beside porthole and the docker commands.
// Usage: node bench/swarm-floor.cjs MANAGER_SOCKET SERVICE (PORTHOLE_SWARM_NODES maps node names to sockets).
'use strict';
const net = require('node:net');

const [manager, name] = process.argv.slice(2);
const nodes = JSON.parse(process.env.PORTHOLE_SWARM_NODES);

/** One GET on a fresh connection; the body, de-chunked. */
function get(socket, path) {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket.replace(/^unix:\/\//, ''));
    s.write(`GET ${path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`);
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      let body = text.slice(head + 4);
      if (/transfer-encoding: chunked/i.test(text.slice(0, head))) {
        let out = '';
        for (let p = 0; ;) {
          const nl = body.indexOf('\r\n', p);
          const size = parseInt(body.slice(p, nl), 16);
          if (!size) break;
          out += body.slice(nl + 2, nl + 2 + size);
          p = nl + 2 + size + 2;
        }
        body = out;
      }
      resolve(body);
    });
  });
}

(async () => {
  const filter = (f) => encodeURIComponent(JSON.stringify(f));
  const [services, tasks, nodeList] = (await Promise.all([
    get(manager, `/v1.41/services?filters=${filter({ name: [name] })}`),
    get(manager, `/v1.41/tasks?filters=${filter({ service: [name] })}`),
    get(manager, '/v1.41/nodes'),
  ])).map((b) => JSON.parse(b));
  const failed = tasks.filter((t) => t.Status.State === 'failed').sort((a, b) => b.UpdatedAt.localeCompare(a.UpdatedAt))[0];
  const node = nodeList.find((n) => n.ID === failed.NodeID).Description.Hostname;
  const id = failed.Status.ContainerStatus.ContainerID;
  const [inspect, logs] = await Promise.all([get(nodes[node], `/v1.41/containers/${id}/json`), get(nodes[node], `/v1.41/containers/${id}/logs?stdout=1&stderr=1&tail=50`)]);
  process.stdout.write(`${services[0].Spec.Name}: task ${failed.ID.slice(0, 12)} on ${node} exited ${JSON.parse(inspect).State.ExitCode}; ${logs.length} bytes of output\n`);
})();
