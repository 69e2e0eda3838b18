import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { numericId } from '../../core/ids.js';
import { mustAccount, uniquely } from '../../control/lookups.js';

/** User API control-plane routes, mounted under /_kapibara/v1: a person's shipping addresses. */

const Str = Type.String();
const OptStr = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const OptBool = Type.Optional(Type.Boolean());
const AccountIdParams = Type.Object({ account_id: Type.Integer() });

const ShippingAddressBody = Type.Object(
  {
    id: Type.Optional(Type.Integer()),
    name: Str,
    is_default: OptBool,
    type: Type.Optional(Type.Union([Type.Literal('NEW'), Type.Literal('OLD')])),
    base_address: Str,
    detail_address: OptStr,
    receiver_name: OptStr,
    receiver_phone_number1: OptStr,
    receiver_phone_number2: OptStr,
    zone_number: OptStr,
    zip_code: OptStr,
  },
  { additionalProperties: false },
);

export default async function userControlRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  // Shipping addresses
  app.post('/accounts/:account_id/shipping_addresses', { schema: { params: AccountIdParams, body: ShippingAddressBody } }, async (req, reply) => {
    await mustAccount(app.platform.db, req.params.account_id);
    const b = req.body;
    const row = {
      id: b.id ?? numericId(),
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
    return reply.status(201).send({ ...row, is_default: row.is_default === 1 });
  });
}
