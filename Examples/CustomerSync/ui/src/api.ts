// The CustomerSync backend's routes, called from the UI extension with fetchStripeSignature. Every call signs the
// mode; POSTs send the signed JSON as their body (extra values first, then user_id, then account_id, exactly as
// Stripe signs it), GETs send the ids and the mode as headers. Routes: Sources/CustomerSync/Routes.swift.
import {fetchStripeSignature} from '@stripe/ui-extension-sdk/utils';
import type {ExtensionContextValue, StripeRole} from '@stripe/ui-extension-sdk/context';

export const BACKEND = 'https://customer-sync.example.com';

/** `GET /api/sync`. */
export interface SyncStatus {
  connected: boolean;
  installed_at: string | null;
  synced_customers: number;
  last_full_sync: {finished_at: string; customers: number; trigger: 'nightly' | 'manual'} | null;
}

/** `GET /api/customers/{id}/sync`. */
export interface CustomerSyncStatus {
  customer: string;
  status: 'synced' | 'deleted' | 'not_synced';
  synced_at: string | null;
}

/** Every error the backend answers: a stable code and a message for people. */
export interface BackendError {
  error: {code: string; message: string; hint?: string};
}

export class BackendCallFailed extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(`${status} ${code}`);
  }
}

async function answer<T>(response: Response): Promise<T> {
  const body: unknown = await response.json();
  if (!response.ok) {
    const code = (body as BackendError).error?.code ?? 'unknown';
    throw new BackendCallFailed(response.status, code);
  }
  return body as T;
}

/** A signed GET: the ids and the mode travel as headers, and the backend rebuilds the signed payload from them. */
async function signedGet<T>(context: ExtensionContextValue, path: string): Promise<T> {
  const {userContext, environment} = context;
  const signature = await fetchStripeSignature({mode: environment.mode});
  const response = await fetch(`${BACKEND}${path}`, {
    headers: {
      'Stripe-Signature': signature,
      'Stripe-User-Id': userContext.id,
      'Stripe-Account-Id': userContext.account.id,
      'Stripe-Mode': environment.mode,
    },
  });
  return answer<T>(response);
}

/** A signed POST: the body is the signed JSON. `roles` signs the user's roles, for administrator routes. */
async function signedPost<T>(
  context: ExtensionContextValue,
  path: string,
  extra: Record<string, unknown> = {},
  roles?: StripeRole[],
): Promise<T> {
  const {userContext, environment} = context;
  const payload: Record<string, unknown> = {mode: environment.mode, ...extra};
  if (roles !== undefined) payload.stripe_roles = roles;
  const signature = await fetchStripeSignature(payload);
  const response = await fetch(`${BACKEND}${path}`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'Stripe-Signature': signature},
    body: JSON.stringify({...payload, user_id: userContext.id, account_id: userContext.account.id}),
  });
  return answer<T>(response);
}

export function syncStatus(context: ExtensionContextValue): Promise<SyncStatus> {
  return signedGet<SyncStatus>(context, '/api/sync');
}

export function customerSyncStatus(context: ExtensionContextValue, customerID: string): Promise<CustomerSyncStatus> {
  return signedGet<CustomerSyncStatus>(context, `/api/customers/${encodeURIComponent(customerID)}/sync`);
}

/** `POST /api/sync`: queues a full sync; 409 crm_not_connected before a key is connected. */
export function startFullSync(context: ExtensionContextValue): Promise<{queued: boolean; job: string | null}> {
  return signedPost(context, '/api/sync');
}

/** `POST /api/crm/connection` (Administrator): checks the key with the CRM, stores it, queues a full sync. */
export function connectCRM(context: ExtensionContextValue, apiKey: string): Promise<{connected: boolean; job: string | null}> {
  return signedPost(context, '/api/crm/connection', {api_key: apiKey}, context.userContext.roles);
}

/** `POST /api/crm/disconnection` (Administrator): forgets the key. */
export function disconnectCRM(context: ExtensionContextValue): Promise<{connected: boolean}> {
  return signedPost(context, '/api/crm/disconnection', {}, context.userContext.roles);
}
