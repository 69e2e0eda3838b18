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

/**
 * The consent items every product declares (`consentItems` of its module), in the order
 * `/v2/user/scopes` lists them. Built once per app from the product list.
 */
export class ScopeCatalog {
  readonly all: readonly ScopeInfo[];
  private readonly byId: ReadonlyMap<string, ScopeInfo>;

  constructor(items: readonly ScopeInfo[]) {
    this.all = items;
    this.byId = new Map(items.map((s) => [s.id, s]));
    if (this.byId.size !== items.length) throw new Error('a consent item is declared twice');
  }

  get(id: string): ScopeInfo | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }
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
