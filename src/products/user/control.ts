import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustAccount, uniquely } from '../../control/lookups.js';
import { Id, LIMITS as L, Text } from '../../control/limits.js';
import { newId } from '../../db/ids.js';
import { CREATED, NO_CONTENT } from '../../core/http.js';
import { CLOCK_MAX_MS, ClockChangeError, clockTime, isoSeconds } from '../../core/clock.js';
import { ControlError } from '../../core/errors.js';
import { addShippingAddress, listShippingAddresses, deleteShippingAddress, type ShippingAddressRow } from './store.js';

/** User API control-plane routes, mounted under /_kapibara/v1: a person's shipping addresses (add, list, delete). */

const OptText = (max: number) => Type.Optional(Type.Union([Text(max), Type.Null()]));
const OptBool = Type.Optional(Type.Boolean());
const AccountIdParams = Type.Object({ account_id: Id });
const AddressParams = Type.Object({ account_id: Id, address_id: Id });

export const ShippingAddressBody = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    name: Text(L.addressName),
    is_default: OptBool,
    type: Type.Optional(Type.Union([Type.Literal('NEW'), Type.Literal('OLD')])),
    base_address: Text(L.address),
    detail_address: OptText(L.address),
    receiver_name: OptText(L.personName),
    receiver_phone_number1: OptText(L.phoneNumber),
    receiver_phone_number2: OptText(L.phoneNumber),
    zone_number: OptText(L.zoneOrZipCode),
    zip_code: OptText(L.zoneOrZipCode),
    /** When the person last changed it; default: now, or a second after their newest address. */
    updated_at: Type.Optional(Type.String({ format: 'date-time', maxLength: L.dateTime })),
  },
  { additionalProperties: false },
);

/**
 * An address added without `updated_at` is updated now, or a second after the person's
 * newest address when that is as late: the API pages by whole seconds (`from_updated_at`),
 * so addresses a test adds in one go (or at the same time: chosen under the person's lock)
 * would otherwise share their paging key and a page boundary would skip some, where a
 * person adding them one by one never does.
 */
function addedAt(newest: number | undefined, now: number): number {
  if (newest === undefined || Math.floor(newest / 1000) < Math.floor(now / 1000)) return now;
  return (Math.floor(newest / 1000) + 1) * 1000;
}

/** A given `updated_at`, read as `POST /clock` reads a time and refused in the same words. */
function givenTime(text: string): number {
  try {
    return clockTime('updated_at', text);
  } catch (err) {
    if (err instanceof ClockChangeError) throw new ControlError(400, err.message);
    throw err;
  }
}

/** An address as the control plane answers it: times ISO (the API shows them as Unix seconds), `is_default` a boolean. */
function addressJson(row: ShippingAddressRow) {
  return { ...row, is_default: row.is_default === 1, updated_at: isoSeconds(Number(row.updated_at)) };
}

export default async function userControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  // Shipping addresses
  app.post('/accounts/:account_id/shipping_addresses', { config: CREATED, schema: { params: AccountIdParams, body: ShippingAddressBody } }, async (req) => {
    const { db, clock } = app.platform;
    await mustAccount(db, req.params.account_id);
    const b = req.body;
    const given = b.updated_at !== undefined ? givenTime(b.updated_at) : undefined;
    const fields = {
      id: b.id ?? (await newId(db)),
      account_id: req.params.account_id,
      name: b.name,
      is_default: (b.is_default ? 1 : 0) as 0 | 1,
      type: b.type ?? 'NEW',
      base_address: b.base_address,
      detail_address: b.detail_address ?? null,
      receiver_name: b.receiver_name ?? null,
      receiver_phone_number1: b.receiver_phone_number1 ?? null,
      receiver_phone_number2: b.receiver_phone_number2 ?? null,
      zone_number: b.zone_number ?? null,
      zip_code: b.zip_code ?? null,
    };
    const row = await uniquely('shipping address', () =>
      addShippingAddress(db, fields, (newest) => {
        const at = given ?? addedAt(newest, clock.now());
        if (at > CLOCK_MAX_MS) throw new ControlError(400, `updated_at: a second after the newest address (${isoSeconds(newest!)}) is past 9999; give updated_at.`);
        return at;
      }),
    );
    // Deleted since it was looked up: answered as if it had been before.
    if (!row) throw new ControlError(404, `account ${req.params.account_id} not found`);
    return addressJson(row);
  });
  app.get('/accounts/:account_id/shipping_addresses', { schema: { params: AccountIdParams } }, async (req) => {
    const { db } = app.platform;
    await mustAccount(db, req.params.account_id);
    return (await listShippingAddresses(db, req.params.account_id, {})).map(addressJson);
  });
  app.delete('/accounts/:account_id/shipping_addresses/:address_id', { config: NO_CONTENT, schema: { params: AddressParams } }, async (req, reply) => {
    const { db } = app.platform;
    await mustAccount(db, req.params.account_id);
    if (!(await deleteShippingAddress(db, req.params.account_id, req.params.address_id))) {
      throw new ControlError(404, `account ${req.params.account_id} has no shipping address ${req.params.address_id}`);
    }
    return reply.send();
  });
}
