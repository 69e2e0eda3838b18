import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * What every request pays, run by one Fastify hook per phase instead of one hook per
 * concern: when a request arrives (HEAD routed as GET, the inspector's clock, Host names,
 * the control-plane guard, CORS) and when its answer is about to be sent (the JSON content
 * type, page headers, the inspector's record). Fastify runs each hook through its own
 * runner with a callback per hook, and an `onResponse` hook makes it listen for every
 * response's `finish`; on `/v2/user/me` Kapibara's hooks, CORS included, took 0.18 of the
 * CPU of a request (docs/benchmarks.md). The concerns stay in their modules: each adds its
 * steps here.
 *
 * Steps run in the order they were added (the guard before CORS, so that it refuses
 * control-plane preflights from other origins before CORS would answer them). The
 * onRequest hook is registered when the phases are made, before any plugin adds its own.
 */

/** Returns true when it answered the request itself (a refusal): no later step runs. */
export type ArrivalStep = (req: FastifyRequest, reply: FastifyReply) => boolean;
/** Headers and bookkeeping; the payload goes out as it is. */
export type SendingStep = (req: FastifyRequest, reply: FastifyReply, payload: unknown) => void;

export class RequestPhases {
  private readonly arrival: ArrivalStep[] = [];
  private readonly sending: SendingStep[] = [];

  constructor(app: FastifyInstance) {
    const arrival = this.arrival;
    const sending = this.sending;
    app.addHook('onRequest', (req, reply, done) => {
      for (let i = 0; i < arrival.length; i++) if (arrival[i](req, reply)) return;
      done();
    });
    app.addHook('onSend', (req, reply, payload, done) => {
      for (let i = 0; i < sending.length; i++) sending[i](req, reply, payload);
      done(null, payload);
    });
  }

  onArrival(step: ArrivalStep): void {
    this.arrival.push(step);
  }

  onSending(step: SendingStep): void {
    this.sending.push(step);
  }
}
