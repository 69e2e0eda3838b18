import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mustAccount, uniquely } from '../../control/lookups.js';
import { Id, LIMITS as L, Text } from '../../control/limits.js';
import { newId } from '../../db/ids.js';
import { CREATED } from '../../core/http.js';

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
  },
  { additionalProperties: false },
);

export default async function userControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  // Shipping addresses
  app.post('/accounts/:account_id/shipping_addresses', { config: CREATED, schema: { params: AccountIdParams, body: ShippingAddressBody } }, async (req) => {
    await mustAccount(app.platform.db, req.params.account_id);
    const b = req.body;
    const row = {
      id: b.id ?? (await newId(app.platform.db)),
      account_id: req.params.account_id,
      name: b.name,
      is_default: (b.is_default ? 1 : 0) as 0 | 1,
      updated_at: app.platform.clock.now(),
      type: b.type ?? 'NEW',
      base_address: b.base_address,
      detail_address: b.detail_address ?? null,
      receiver_name: b.receiver_name ?? null,
      receiver_phone_number1: b.receiver_phone_number1 ?? null,
      receiver_phone_number2: b.receiver_phone_number2 ?? null,
      zone_number: b.zone_number ?? null,
      zip_code: b.zip_code ?? null,
    };
    await uniquely('shipping address', () => app.platform.db.insertInto('shipping_addresses').values(row).execute());
    return { ...row, is_default: row.is_default === 1 };
  });
}
