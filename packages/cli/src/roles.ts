import type { Role } from '@livescope/control-plane/api-types';

export type { Role };

/** Every role the API knows, for `livescope token --role` (checked against the API's Role type at compile time). */
export const allRoles = ['responder', 'approver', 'soc', 'admin'] as const satisfies readonly Role[];

type Unlisted = Exclude<Role, (typeof allRoles)[number]>;
// Fails to compile when the API gains a role the list above lacks.
const _allRolesListed: [Unlisted] extends [never] ? true : Unlisted = true;
