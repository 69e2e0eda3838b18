import { loadSharp } from '../../core/lazy.js';

/**
 * The pictures of Kakao's SDK v1 login button (`Kakao.Auth.createLoginButton`), which the SDK
 * shows as `<img>` from kauth: `/public/widget/login/<lang>/<lang>_<size>_medium.png`, and
 * `…_medium_press.png` while the pointer is over it. `lang` is `kr` or `en` and `size` is
 * `01` (the SDK's `large`), `02` (`medium`, its default) or `03` (`small`), the only values
 * SDK v1 accepts.
 *
 * Kapibara draws its own: a plain yellow (#FEE500) rounded button with a dark speech-bubble
 * mark on the left, no text (fonts may be missing where it runs), the same for both
 * languages; the press picture is a darker yellow. Each is drawn once per process.
 */

export const LOGIN_BUTTON_LANGS = ['kr', 'en'] as const;

/** Width and height per size: one shape (20:3), three scales. */
export const LOGIN_BUTTON_SIZES = { '01': [300, 45], '02': [240, 36], '03': [180, 27] } as const;

export type LoginButtonSize = keyof typeof LOGIN_BUTTON_SIZES;

const YELLOW = '#FEE500';
const PRESSED = '#E5CE00';
const MARK = '#191919';

const drawn = new Map<string, Promise<Buffer>>();

/** The path of one picture. */
export function loginButtonPath(lang: string, size: LoginButtonSize, press: boolean): string {
  return `/public/widget/login/${lang}/${lang}_${size}_medium${press ? '_press' : ''}.png`;
}

function svg(size: LoginButtonSize, press: boolean): string {
  const [w, h] = LOGIN_BUTTON_SIZES[size];
  const n = (v: number) => v.toFixed(2);
  // The mark: an ellipse with a tail at its lower left, centred a button-height from the left edge.
  const cx = h * 0.75;
  const cy = h * 0.47;
  const rx = h * 0.3;
  const ry = h * 0.24;
  const tail = [
    [cx - rx * 0.45, cy + ry * 0.7],
    [cx - rx * 0.6, cy + ry * 1.35],
    [cx - rx * 0.05, cy + ry * 0.85],
  ]
    .map(([x, y]) => `${n(x)},${n(y)}`)
    .join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">
<rect width="${w}" height="${h}" rx="${n(h * 0.15)}" fill="${press ? PRESSED : YELLOW}"/>
<ellipse cx="${n(cx)}" cy="${n(cy)}" rx="${n(rx)}" ry="${n(ry)}" fill="${MARK}"/>
<polygon points="${tail}" fill="${MARK}"/>
</svg>`;
}

/** The PNG of one picture (the languages share one drawing), rendered the first time it is asked for. */
export function loginButtonPng(size: LoginButtonSize, press: boolean): Promise<Buffer> {
  const key = `${size}${press ? '_press' : ''}`;
  let png = drawn.get(key);
  if (!png) {
    png = loadSharp().then((sharp) => sharp(Buffer.from(svg(size, press))).png().toBuffer());
    // A failed render is not kept: the next request draws again.
    png.catch(() => drawn.delete(key));
    drawn.set(key, png);
  }
  return png;
}
