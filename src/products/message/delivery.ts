import type { Platform } from '../../core/platform.js';
import { referenceGone } from '../../db/dialect.js';
import { findAccountById } from '../../store/accounts.js';
import { type NewMessage, type Recipients, deliver } from './store.js';

/**
 * Deliveries one send makes at most when people it reaches are deleted while each is under
 * way. A send to friends needs two at most (a receiver deleted loses their link with them, so
 * the next attempt is refused before it delivers); a share to group chats goes on without
 * each member deleted, and a third delete in a row ends it.
 */
export const DELIVERY_ATTEMPTS = 3;

/** Every attempt of a send met a person deleted while it was under way: nothing was stored. */
export class DeliveryRaced extends Error {}

/** A delivery refused because a person it reaches is gone; `cause` is the database's error. */
class ReceiverGone extends Error {}

/** Stores the message for `to` at `now`; what `sendAsAfterDeletes` gives each attempt. */
export type Deliver = (to: Recipients, now: number) => Promise<void>;

/**
 * A send answered as it would be after any delete that lands while it is under way. `attempt`
 * reads whom the message reaches from the database as it is now and stores it with the
 * `Deliver` it is given. A person it reaches deleted meanwhile has their row refused by its
 * foreign key, and nothing of the delivery is stored: `attempt` undoes what else it did
 * (quota it reserved) and lets the error pass, and is run again, so that it answers as a
 * send made after the delete. The sender deleted: the database's error is thrown, and the
 * route answers as for a call made after (-401, `core/route.ts`). Every one of
 * `DELIVERY_ATTEMPTS` meeting a delete: `DeliveryRaced`, for the caller to answer in its
 * surface's shape.
 */
export async function sendAsAfterDeletes<T>(platform: Platform, message: NewMessage, attempt: (deliver: Deliver) => Promise<T>): Promise<T> {
  const deliverNow: Deliver = async (to, now) => {
    try {
      await deliver(platform.store, message, to, now);
    } catch (err) {
      throw referenceGone(err) ? new ReceiverGone('a person the message reaches was deleted', { cause: err }) : err;
    }
  };
  for (let n = 1; ; n++) {
    try {
      return await attempt(deliverNow);
    } catch (err) {
      if (!(err instanceof ReceiverGone)) throw err;
      if (!(await findAccountById(platform.db, message.senderAccountId))) throw err.cause;
      if (n === DELIVERY_ATTEMPTS) throw new DeliveryRaced('people the message reaches were deleted during every attempt', { cause: err.cause });
    }
  }
}
