// A raw HTTP/1.1 client on a socket, for what fetch cannot do: declare a length and not send it,
// trickle bytes, keep writing a chunked body, and see exactly when the server answers or hangs up.
import net from 'node:net';

export interface RawConnection {
  socket: net.Socket;
  /** Resolves with all bytes received once the server has answered (the status line and headers are in) or hung up. */
  answered: Promise<string>;
  /** Resolves with all bytes received when the connection is closed. */
  closed: Promise<string>;
  /** True once the server has sent anything or closed the connection. */
  done: () => boolean;
}

export function rawConnection(url: string): RawConnection {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let received = '';
  let over = false;
  const closed = new Promise<string>((resolve) => {
    socket.on('close', () => { over = true; resolve(received); });
  });
  const answered = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) { over = true; resolve(received); }
    });
    void closed.then(resolve);
  });
  // A reset (we kept writing after the server closed) is part of what the tests observe.
  socket.on('error', () => { over = true; });
  return { socket, answered, closed, done: () => over };
}

/** The status code of a raw response, and its JSON body when there is one. */
export function parseRaw(response: string): { status: number; json: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  const start = body.indexOf('{');
  return { status, json: start < 0 ? undefined : JSON.parse(body.slice(start, body.lastIndexOf('}') + 1)) };
}

/** Writes and waits until the socket can take more (or it has closed). */
export function write(socket: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.write(data)) {
      if (socket.destroyed) return resolve();
      socket.once('drain', resolve);
      socket.once('close', resolve);
      return;
    }
    resolve();
  });
}
