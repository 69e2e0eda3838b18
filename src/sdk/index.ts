import { KakaoError, VERSION, cleanups, runtime } from './common.js';
import { API } from './api.js';
import { Auth } from './auth.js';
import { Link, Share } from './share.js';
import { Channel } from './channel.js';

/**
 * Kapibara's own `window.Kakao`: the surface of Kakao's JavaScript SDK v2 (with v1's
 * `Kakao.Link` names), talking to the Kapibara that served this script. An app switches
 * to it by changing only its `<script src>` (docs/browser-sdk.md).
 */

function init(appKey: unknown): void {
  if (typeof appKey !== 'string' || appKey === '') throw new KakaoError('Kakao.init: the app key (your JavaScript key) must be a non-empty string.');
  if (runtime.appKey) throw new KakaoError('Kakao.init: already initialized; call Kakao.cleanup() first to use another app key.');
  runtime.appKey = appKey;
}

function isInitialized(): boolean {
  return runtime.appKey !== undefined;
}

/** Forgets the app key and the token, and removes every listener, poller and button handler. */
function cleanup(): void {
  for (const undo of cleanups.splice(0)) undo();
  runtime.appKey = undefined;
  runtime.accessToken = undefined;
}

const Kakao = { VERSION, init, isInitialized, cleanup, Auth, API, Share, Link, Channel };

declare global {
  interface Window {
    Kakao: typeof Kakao;
  }
}

window.Kakao = Kakao;
