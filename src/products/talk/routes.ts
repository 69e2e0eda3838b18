import type { FastifyInstance } from 'fastify';

/** Talk routes: literal Kakao paths. */
export default async function talkRoutes(_app: FastifyInstance): Promise<void> {}
