import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { route } from '../../core/route.js';
import * as ops from './operations.js';

/** System (seed 002's System table, products notes §7). */

const Opt = Type.Optional;
const IpsResponse = Type.Object({
  inbound: Opt(Type.Array(Type.Object({ type: Type.String(), ip: Type.String() }))),
  outbound: Opt(Type.Array(Type.Object({ domain: Type.String(), ip: Type.String() }))),
  updatedDate: Type.String(),
});
const CurrentResponse = Type.Object({
  status: Type.String(),
  description: Type.String(),
  checked_at: Type.String(),
  services: Type.Array(Type.Object({ name: Type.String(), status: Type.String() })),
});
const HistoryResponse = Type.Object({
  status: Type.String(),
  since: Type.String(),
  incidents: Type.Array(
    Type.Object({ status: Type.String(), description: Type.String(), started_at: Type.String(), ended_at: Opt(Type.String()) }),
  ),
});

/** The address the request reached Kapibara on (the socket's, not a Host header's). */
const listenerAddress = async (req: FastifyRequest) => ops.plainAddress(req.socket?.localAddress);

export const systemRoutes = [
  route({
    method: 'GET',
    url: '/v1/system/ips',
    auth: 'app-key',
    params: Type.Object({ rule_type: Opt(Type.String()) }),
    body: listenerAddress,
    response: IpsResponse,
    handler: (call, input, { body }) => ops.ipList(call.platform, input.rule_type, body),
  }),
  route({ method: 'GET', url: '/api/health/current', auth: 'none', response: CurrentResponse, handler: (call) => ops.currentHealth(call.platform) }),
  route({ method: 'GET', url: '/api/health/history', auth: 'none', response: HistoryResponse, handler: (call) => ops.healthHistory(call.platform) }),
];
