// The real engine behind TLS: a Node TLS server with its own CA, asking for a client certificate (mutual TLS, as
// dockerd --tlsverify does), forwarding to the engine's unix socket. Like Go's net/http (dockerd), it answers a
// plain HTTP request with "400 Client sent an HTTP request to an HTTPS server." instead of a handshake.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

export interface TlsEngine {
  port: number;
  /** Folder with ca.pem, server.pem, client.pem, client-key.pem, other-ca.pem (a CA that signed nothing here). */
  dir: string;
  file(name: string): string;
  /** Whether a verified client certificate was seen on the last connection. */
  clientCertSeen(): boolean;
  close(): void;
}

function forwardTo(socketPath: string, client: net.Socket) {
  const upstream = net.connect(socketPath);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
}

export async function tlsEngine(target = '/var/run/docker.sock'): Promise<TlsEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-tls-engine-'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ca = (name: string) => openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`]);
  ca('ca');
  ca('other-ca');
  const issue = (name: string, ext: string) => {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  };
  issue('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f));
  let seen = false;
  const secure = tls.createServer({ key: read('server-key.pem'), cert: read('server.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true }, (socket) => {
    seen = socket.authorized;
    forwardTo(target, socket);
  });
  secure.on('tlsClientError', () => undefined);
  // The first byte tells a TLS handshake (0x16) from plain HTTP, as Go's server does on a TLS port.
  const front = net.createServer((socket) => {
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (!first) return socket.destroy();
      socket.unshift(first);
      if (first[0] === 0x16) secure.emit('connection', socket);
      else socket.end('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
    });
    socket.on('error', () => socket.destroy());
  });
  const port = await new Promise<number>((resolve) => front.listen(0, '127.0.0.1', () => resolve((front.address() as net.AddressInfo).port)));
  return {
    port,
    dir,
    file: (name) => join(dir, name),
    clientCertSeen: () => seen,
    close: () => {
      front.close();
      secure.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
