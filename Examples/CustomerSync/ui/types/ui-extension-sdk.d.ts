// The few declarations of @stripe/ui-extension-sdk that src/ uses, as the SDK documents them, so the extension's
// calls type-check here without the SDK (which cannot be installed offline). In a real app, delete this file and
// `npm install @stripe/ui-extension-sdk`: the same imports resolve to the SDK's own types.

/** A Dashboard role of the user, as `stripe_roles` carries it in a signed payload. */
export interface StripeRole {
  type: 'builtIn' | 'custom';
  name: string;
}

/** What a view receives: who is looking, at which account, in which mode. */
export interface ExtensionContextValue {
  userContext: {
    id: string;
    account: {id: string; name?: string};
    roles: StripeRole[];
  };
  environment: {
    mode: 'live' | 'test';
    viewportID: string;
    objectContext?: {id: string; object: string};
  };
}

/**
 * Asks Stripe to sign `{...additionalPayload, user_id, account_id}` with the app's signing secret; resolves to
 * the `Stripe-Signature` header value.
 */
export function fetchStripeSignature(additionalPayload?: Record<string, unknown>): Promise<string>;
