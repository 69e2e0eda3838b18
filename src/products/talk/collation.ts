/**
 * The friends list collation (seed 003): characters are ordered by script class first,
 *   Korean:  Korean, special characters, numbers, English, Japanese, emoji;
 *   English: special characters, numbers, English, Japanese, Korean, emoji;
 * then by code point within the class (English letters case-insensitively, full-width forms
 * as their ASCII counterparts). A sort key is ASCII (one class digit and six hex digits per
 * character, then the original text as a tie-breaker), so both stores compare it bytewise
 * and an index orders it.
 */
export type FriendLanguage = 'ko' | 'en';

type CharClass = 'korean' | 'special' | 'number' | 'english' | 'japanese' | 'emoji';

const RANK: Record<FriendLanguage, Record<CharClass, number>> = {
  ko: { korean: 0, special: 1, number: 2, english: 3, japanese: 4, emoji: 5 },
  en: { special: 0, number: 1, english: 2, japanese: 3, korean: 4, emoji: 5 },
};

const EMOJI = /^[\p{Extended_Pictographic}\p{Regional_Indicator}\u200d\ufe0f\u{1f3fb}-\u{1f3ff}]$/u;

function classify(cp: number, ch: string): CharClass {
  if ((cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f) || (cp >= 0xa960 && cp <= 0xa97f) || (cp >= 0xd7b0 && cp <= 0xd7ff)) {
    return 'korean';
  }
  if (cp >= 0x30 && cp <= 0x39) return 'number';
  if ((cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0xc0 && cp <= 0x24f && cp !== 0xd7 && cp !== 0xf7)) return 'english';
  if ((cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0xff66 && cp <= 0xff9f) || (cp >= 0x4e00 && cp <= 0x9fff)) {
    return 'japanese';
  }
  // The digits 0-9 and # * are Emoji too, but are handled above or are plain symbols.
  if (cp > 0xff && EMOJI.test(ch)) return 'emoji';
  return 'special';
}

/** Full-width ASCII as ASCII, letters lower-cased: `Ｒｙａｎ` and `ryan` sort together. */
function fold(cp: number): number {
  if (cp >= 0xff01 && cp <= 0xff5e) cp -= 0xfee0;
  if (cp >= 0x41 && cp <= 0x5a) cp += 0x20;
  return cp;
}

export function sortKey(nickname: string, language: FriendLanguage): string {
  const rank = RANK[language];
  let key = '';
  for (const ch of nickname) {
    const cp = fold(ch.codePointAt(0)!);
    key += rank[classify(cp, String.fromCodePoint(cp))] + cp.toString(16).padStart(6, '0');
  }
  // Separator below every class digit, then the exact text: `ryan` before `Ryan`, stable.
  let tie = '';
  for (const ch of nickname) tie += ch.codePointAt(0)!.toString(16).padStart(6, '0');
  return `${key}!${tie}`;
}

/** The SDKs send `KA: ... lang/<lang> ...`; English ordering when the language is English. */
export function friendLanguage(ka: string | string[] | undefined): FriendLanguage {
  const header = Array.isArray(ka) ? ka[0] : ka;
  const lang = header ? /(?:^|\s)lang\/([A-Za-z]+)/.exec(header)?.[1] : undefined;
  return lang?.toLowerCase() === 'en' ? 'en' : 'ko';
}
