/**
 * Inbound connections counted per remote IP address, so one address cannot take every
 * connection slot (slow-loris, floods): used by the SIP TCP/TLS transport and the MSRP endpoint.
 */
import type { Socket } from 'node:net';

export class PerAddressLimit {
  private readonly open = new Map<string, number>();

  /**
   * Count the accepted socket against its address: false when the address already holds
   * `max` connections (the caller refuses it), else true, and the count drops when the socket closes.
   */
  admit(socket: Socket, max: number): boolean {
    const ip = socket.remoteAddress ?? '';
    const n = this.open.get(ip) ?? 0;
    if (n >= max) return false;
    this.open.set(ip, n + 1);
    socket.once('close', () => {
      const left = (this.open.get(ip) ?? 1) - 1;
      if (left > 0) this.open.set(ip, left);
      else this.open.delete(ip);
    });
    return true;
  }
}
