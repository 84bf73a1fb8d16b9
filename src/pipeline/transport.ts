// The transport port: all the pipeline knows of how messages move between hubs. It takes and
// gives typed messages (hop/trace.ts), never a transport's headers; bus/outlet.ts holds the
// adapters (a neighbour on this broker, an outbox for another broker, this hub's mailbox stage).
// A new kind of next hop (a connector to the national axis, an HTTP gateway) is a new adapter.
import type { HubError } from '../errors.js';
import type { HopMessage } from '../hop/trace.js';

/** Where a message goes next: this hub's own mailbox stage, or another hub. */
export type NextHop = 'mailbox' | { hub: string };

export interface Outlet {
  /** False while the transport is down: new submissions are refused rather than left waiting. */
  available(): boolean;
  /** Why the message could not travel as it is (over a bound of the transport), or undefined. */
  refuses(message: HopMessage): HubError | undefined;
  /** Resolves once the transport has taken the message for good (a broker's confirm). */
  send(to: NextHop, message: HopMessage): Promise<void>;
}

/** A message the transport hands the pipeline, with a way to move it, as it arrived, to the dead letters. */
export interface Inbound {
  message: HopMessage;
  deadLetter(reason: HubError): Promise<void>;
}
