import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { TLS_HOST_NAMES } from './core/tls.js';

/**
 * Host mapping inside one process, for clients that hard-code https://kauth.kakao.com and
 * https://kapi.kakao.com: their connections go to Kapibara's TLS port, which they trust,
 * and nothing else changes (docs/connecting-an-app.md). Two kinds of client, two hooks:
 * node:https clients take an `https.Agent` (node-oauth, so passport-kakao); fetch-based ones
 * (Auth.js, arctic, better-auth, openid-client…) take Node's global fetch dispatcher.
 */

/**
 * An https.Agent that connects every request to `tlsPort` on 127.0.0.1 and trusts `ca`
 * (`kapibara tls-cert`), keeping the host name for SNI and the Host header.
 */
export function mappedAgent(tlsPort: number, ca: string): https.Agent {
  const agent = new https.Agent({ ca, keepAlive: false });
  const connect = (options: tls.ConnectionOptions & { host?: string }): Duplex =>
    tls.connect({ ...options, host: '127.0.0.1', port: tlsPort, servername: options.servername ?? options.host, ca });
  (agent as unknown as { createConnection: typeof connect }).createConnection = connect;
  return agent;
}

/** The part of undici's Dispatcher that Node's fetch uses. */
interface Dispatcher {
  dispatch(options: { origin?: string | URL }, handler: unknown): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}
type Connect = (options: { hostname: string; servername?: string }, done: (err: Error | null, socket: tls.TLSSocket | null) => void) => tls.TLSSocket;
type AgentClass = new (options: { connect: Connect }) => Dispatcher;

/** Where Node's fetch (undici) keeps its global dispatcher; undici's setGlobalDispatcher writes the same. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
type WithDispatcher = typeof globalThis & { [GLOBAL_DISPATCHER]?: Dispatcher };

/**
 * Node's own undici Agent class, the one its fetch is built on. Node exports no undici, and
 * an Agent from another undici release does not always fit: under Node 20 (undici 6), an
 * npm undici 7 Agent fails every request that sets its own Content-Length
 * (UND_ERR_INVALID_ARG). Node's fetch installs an instance of its Agent as the global
 * dispatcher when it first loads (a `data:` fetch loads it, with no network), so the class is
 * read from there, before anything replaced it.
 */
let nodeAgent: AgentClass | undefined;
async function nodeFetchAgent(): Promise<AgentClass> {
  if (nodeAgent) return nodeAgent;
  const global = globalThis as WithDispatcher;
  if (!global[GLOBAL_DISPATCHER]) await (await fetch('data:,')).arrayBuffer();
  const current = global[GLOBAL_DISPATCHER];
  const agent = current && (Object.getPrototypeOf(current) as { constructor: AgentClass }).constructor;
  if (!agent || agent.name !== 'Agent') throw new Error(`mapFetch: Node's fetch has a global dispatcher that is not its own Agent (${agent?.name ?? 'none'}); call mapFetch before replacing it`);
  nodeAgent = agent;
  return agent;
}

export interface FetchMapping {
  /** The dispatcher now global (also usable as `fetch(url, { dispatcher })`). */
  dispatcher: Dispatcher;
  /** Puts back the dispatcher that was global before and closes the mapped connections. */
  restore(): Promise<void>;
}

/**
 * Makes Node's global `fetch` connect https requests to the Kakao host names Kapibara's
 * certificate carries (`kauth.kakao.com`, `kapi.kakao.com`, …) to `tlsPort` on 127.0.0.1,
 * trusting `ca`; every other request goes to the dispatcher that was global before.
 */
export async function mapFetch(tlsPort: number, ca: string, hosts: readonly string[] = TLS_HOST_NAMES): Promise<FetchMapping> {
  const Agent = await nodeFetchAgent();
  const global = globalThis as WithDispatcher;
  const previous = global[GLOBAL_DISPATCHER]!;
  const names = new Set(hosts);
  const kapibara = new Agent({
    connect: (options, done) => {
      const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: options.servername || options.hostname, ca, ALPNProtocols: ['http/1.1'] });
      socket.once('secureConnect', () => done(null, socket));
      socket.once('error', (err) => done(err, null));
      return socket;
    },
  });
  const mapped = (origin: string | URL | undefined): boolean => {
    if (origin === undefined) return false;
    const url = new URL(String(origin));
    return url.protocol === 'https:' && names.has(url.hostname);
  };
  const dispatcher: Dispatcher = {
    dispatch: (options, handler) => (mapped(options.origin) ? kapibara : previous).dispatch(options, handler),
    close: () => kapibara.close(),
    destroy: () => kapibara.destroy(),
  };
  global[GLOBAL_DISPATCHER] = dispatcher;
  return {
    dispatcher,
    async restore() {
      if (global[GLOBAL_DISPATCHER] === dispatcher) global[GLOBAL_DISPATCHER] = previous;
      await kapibara.close();
    },
  };
}
