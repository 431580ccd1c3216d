// What the views show, kept apart from the SDK's React components so it type-checks (and reads) on its own: the
// onboarding view the install's deep link opens, and the customer detail view.
import type {ExtensionContextValue} from '@stripe/ui-extension-sdk/context';
import {BackendCallFailed, connectCRM, customerSyncStatus, syncStatus} from './api';

/** The onboarding view (viewport `onboarding`): what the user has to do next. */
export async function onboardingStep(context: ExtensionContextValue): Promise<string> {
  const status = await syncStatus(context);
  if (!status.connected) {
    const isAdministrator = context.userContext.roles.some((role) => role.type === 'builtIn' && role.name === 'Administrator');
    return isAdministrator ? 'Paste your CRM API key to connect it.' : 'Ask an administrator to connect your CRM.';
  }
  const last = status.last_full_sync;
  return last === null
    ? 'Connected. The first sync is running.'
    : `Connected. ${last.customers} customers checked at ${last.finished_at}.`;
}

/** Connects the CRM, turning the backend's error codes into what the user can do about them. */
export async function submitKey(context: ExtensionContextValue, apiKey: string): Promise<string> {
  try {
    await connectCRM(context, apiKey.trim());
    return 'Connected. The first sync has started.';
  } catch (error) {
    if (!(error instanceof BackendCallFailed)) throw error;
    switch (error.code) {
      case 'crm_key_rejected':
        return 'The CRM did not accept this key.';
      case 'invalid_api_key':
        return 'That does not look like an API key.';
      case 'insufficient_role':
        return 'Only an administrator can connect the CRM.';
      default:
        return `The backend answered ${error.status} ${error.code}.`;
    }
  }
}

/** The customer detail view (viewport `stripe.dashboard.customer.detail`). */
export async function customerBadge(context: ExtensionContextValue): Promise<string> {
  const customer = context.environment.objectContext?.id;
  if (customer === undefined) return '';
  const status = await customerSyncStatus(context, customer);
  switch (status.status) {
    case 'synced':
      return `In the CRM since ${status.synced_at ?? 'now'}`;
    case 'deleted':
      return 'Removed from the CRM';
    case 'not_synced':
      return 'Not in the CRM yet';
  }
}
