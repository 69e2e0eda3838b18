import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustAccount, uniquely } from '../../control/lookups.js';
import { Id, LIMITS as L, Text } from '../../control/limits.js';
import { newId } from '../../db/ids.js';
import { CREATED } from '../../core/http.js';
import { CLOCK_MAX_MS, CLOCK_MIN_MS, isoSeconds } from '../../core/clock.js';
import { ControlError } from '../../core/errors.js';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { newestShippingAddressTime } from './store.js';

/** User API control-plane routes, mounted under /_kapibara/v1: a person's shipping addresses. */

const OptText = (max: number) => Type.Optional(Type.Union([Text(max), Type.Null()]));
const OptBool = Type.Optional(Type.Boolean());
const AccountIdParams = Type.Object({ account_id: Id });

const ShippingAddressBody = Type.Object(
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
 * so addresses a test adds in one go would otherwise share their paging key and a page
 * boundary would skip some, where a person adding them one by one never does.
 */
async function addedAt(db: Kysely<DB>, accountId: number, now: number): Promise<number> {
  const newest = await newestShippingAddressTime(db, accountId);
  if (newest === undefined || Math.floor(newest / 1000) < Math.floor(now / 1000)) return now;
  return (Math.floor(newest / 1000) + 1) * 1000;
}

export default async function userControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  // Shipping addresses
  app.post('/accounts/:account_id/shipping_addresses', { config: CREATED, schema: { params: AccountIdParams, body: ShippingAddressBody } }, async (req) => {
    const { db, clock } = app.platform;
    await mustAccount(db, req.params.account_id);
    const b = req.body;
    const updatedAt = b.updated_at !== undefined ? Date.parse(b.updated_at) : await addedAt(db, req.params.account_id, clock.now());
    if (!(updatedAt >= CLOCK_MIN_MS && updatedAt <= CLOCK_MAX_MS)) throw new ControlError(400, `updated_at: "${b.updated_at}" is not a time between 1970 and 9999.`);
    const row = {
      id: b.id ?? (await newId(db)),
      account_id: req.params.account_id,
      name: b.name,
      is_default: (b.is_default ? 1 : 0) as 0 | 1,
      updated_at: updatedAt,
      type: b.type ?? 'NEW',
      base_address: b.base_address,
      detail_address: b.detail_address ?? null,
      receiver_name: b.receiver_name ?? null,
      receiver_phone_number1: b.receiver_phone_number1 ?? null,
      receiver_phone_number2: b.receiver_phone_number2 ?? null,
      zone_number: b.zone_number ?? null,
      zip_code: b.zip_code ?? null,
    };
    await uniquely('shipping address', () => db.insertInto('shipping_addresses').values(row).execute());
    // Times on the control plane are ISO (the API shows this one as Unix seconds).
    return { ...row, is_default: row.is_default === 1, updated_at: isoSeconds(row.updated_at) };
  });
}
