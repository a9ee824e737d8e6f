// Parent shapes the union MessageSender resolves to; __typename tells them apart.
import type { ContactRecord, UserRecord } from '../model.js';

export interface BusinessAuthorParent {
  readonly __typename: 'BusinessAuthor';
  readonly name: string | null;
  readonly avatarUrl: string | null;
}

export type SenderParent =
  | (UserRecord & { readonly __typename: 'User' })
  | (ContactRecord & { readonly __typename: 'Contact' })
  | BusinessAuthorParent;
