/**
 * The consent items (scopes) an app can configure, with the names Kakao shows and the
 * type `/v2/user/scopes` reports. An app configures each as required, optional or disabled.
 */
export type ScopeType = 'PRIVACY' | 'SERVICE';
export type ConsentSetting = 'required' | 'optional' | 'disabled';

export interface ScopeInfo {
  id: string;
  display_name: string;
  type: ScopeType;
}

export const SCOPES: readonly ScopeInfo[] = [
  { id: 'profile', display_name: 'Profile Info(nickname/profile image)', type: 'PRIVACY' },
  { id: 'profile_nickname', display_name: 'Nickname', type: 'PRIVACY' },
  { id: 'profile_image', display_name: 'Profile image', type: 'PRIVACY' },
  { id: 'account_email', display_name: 'Email', type: 'PRIVACY' },
  { id: 'name', display_name: 'Name', type: 'PRIVACY' },
  { id: 'gender', display_name: 'Gender', type: 'PRIVACY' },
  { id: 'age_range', display_name: 'Age range', type: 'PRIVACY' },
  { id: 'birthday', display_name: 'Birthday', type: 'PRIVACY' },
  { id: 'birthyear', display_name: 'Birthyear', type: 'PRIVACY' },
  { id: 'phone_number', display_name: 'Phone number', type: 'PRIVACY' },
  { id: 'is_korean', display_name: 'Nationality', type: 'PRIVACY' },
  { id: 'shipping_address', display_name: 'Shipping address', type: 'PRIVACY' },
  { id: 'openid', display_name: 'OpenID Connect', type: 'SERVICE' },
  { id: 'friends', display_name: 'Friends List in Kakao Service(Including profile image, nickname, and favorites)', type: 'SERVICE' },
  { id: 'talk_message', display_name: 'Sending message in KakaoTalk', type: 'SERVICE' },
  { id: 'story_read', display_name: 'Reading Kakao Story', type: 'SERVICE' },
  { id: 'story_publish', display_name: 'Posting to Kakao Story', type: 'SERVICE' },
  { id: 'story_permalink', display_name: 'Kakao Story permalink', type: 'SERVICE' },
];

export const SCOPE_BY_ID: ReadonlyMap<string, ScopeInfo> = new Map(SCOPES.map((s) => [s.id, s]));

export function isKnownScope(id: string): boolean {
  return SCOPE_BY_ID.has(id);
}

/**
 * `profile` is the older combined item; a person who agreed to it has also agreed to the
 * separate nickname and image items (seed 003).
 */
export function hasScope(agreed: Record<string, number>, id: string): boolean {
  if (agreed[id] !== undefined) return true;
  if ((id === 'profile_nickname' || id === 'profile_image') && agreed.profile !== undefined) return true;
  return false;
}
