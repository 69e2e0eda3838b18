import { KakaoError, KAPIBARA_ORIGIN, appKey, kakaoAgent } from './common.js';
import { popupFeatures } from './auth.js';

/**
 * `Kakao.Channel.addChannel` and `chat`: the channel's page in a popup, as SDK v2 opens
 * pf.kakao.com's (here Kapibara's own pages, docs/channel.md). followChannel, which needs
 * an AGT and a result page, is not part of this SDK (docs/browser-sdk.md).
 */

function channelPage(caller: string, settings: unknown, page: 'friend' | 'chat'): void {
  const key = appKey(caller);
  const s = (settings ?? {}) as Record<string, unknown>;
  if (typeof s !== 'object' || Array.isArray(s)) throw new KakaoError(`${caller}: the settings must be an object.`);
  for (const k of Object.keys(s)) if (k !== 'channelPublicId') throw new KakaoError(`${caller}: unknown parameter ${k}.`);
  const id = s.channelPublicId;
  if (typeof id !== 'string' || !/^_[0-9A-Za-z]+$/.test(id)) throw new KakaoError(`${caller}: channelPublicId must be a channel's public id such as "_ZeUTxl".`);
  const query = new URLSearchParams({ app_key: key, kakao_agent: kakaoAgent(), api_ver: '1.0' });
  const opened = window.open(`${KAPIBARA_ORIGIN}/${id}/${page}?${query}`, `channel_${page}`, popupFeatures(350, 510));
  if (!opened) throw new KakaoError(`${caller}: the browser blocked the popup; call it from a click handler.`);
}

export const Channel = {
  addChannel: (settings?: unknown) => channelPage('Channel.addChannel', settings, 'friend'),
  chat: (settings?: unknown) => channelPage('Channel.chat', settings, 'chat'),
};
