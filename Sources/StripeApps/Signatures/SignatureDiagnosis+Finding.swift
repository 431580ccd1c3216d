extension SignatureDiagnosis {
    /// One thing the diagnosis found about the secrets, the header, the timestamp or the payload.
    ///
    /// The ``message`` names secrets only by label, kind and fingerprint, and payload keys only by name: never a
    /// secret, a signature or a payload value. Every code, with its fix, is in `Docs/troubleshooting.md`.
    public struct Finding: Hashable, Sendable, CustomStringConvertible {
        /// How much a finding matters.
        public struct Severity: Hashable, Sendable, CustomStringConvertible {
            private let name: String

            private init(_ name: String) {
                self.name = name
            }

            /// A reason the signature does not verify, or a mistake that will make it fail.
            public static let problem = Severity("problem")
            /// Context: what was checked and found in order.
            public static let note = Severity("note")

            public var description: String { name }
        }

        /// A stable, machine-readable name of a finding; new codes may be added in minor releases.
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            /// The stable snake_case identifier, e.g. `payload_key_order`.
            public let description: String

            private init(_ description: String) {
                self.description = description
            }

            /// The signature verifies.
            public static let verifies = Code("verifies")

            /// A secret is an app signing secret (`absec_`) where a webhook secret belongs.
            public static let secretIsAppSecret = Code("secret_is_app_secret")
            /// A secret is a webhook secret (`whsec_`) where the app signing secret belongs.
            public static let secretIsWebhookSecret = Code("secret_is_webhook_secret")
            /// A secret is an API key (`sk_`, `rk_`, `pk_`), which never signs anything.
            public static let secretIsAPIKey = Code("secret_is_api_key")
            /// A secret is `serve`'s development secret, which Stripe does not know.
            public static let secretIsDevelopmentSecret = Code("secret_is_development_secret")
            /// A secret has no known Stripe prefix.
            public static let secretUnknownKind = Code("secret_unknown_kind")
            /// A secret contains whitespace, which is part of the HMAC key.
            public static let secretWhitespace = Code("secret_whitespace")
            /// A comma-separated list was given as one secret.
            public static let secretIsAList = Code("secret_is_a_list")
            /// A secret is empty (an unset variable, usually).
            public static let secretEmpty = Code("secret_empty")

            /// No `Stripe-Signature` (or `install_signature`) value at all.
            public static let headerMissing = Code("header_missing")
            /// What the header holds: its `t`, its `v1` signatures and the schemes it ignores.
            public static let headerShape = Code("header_shape")
            /// The value starts with the header's name (`Stripe-Signature: t=…`).
            public static let headerIncludesName = Code("header_includes_name")
            /// The value is wrapped in quotes.
            public static let headerQuoted = Code("header_quoted")
            /// The value is still URL-encoded (`t%3D…%2Cv1%3D…`).
            public static let headerURLEncoded = Code("header_url_encoded")
            /// Spaces or line breaks around the elements (`t=…, v1=…`), which hide the `v1` from every verifier.
            public static let headerWhitespace = Code("header_whitespace")
            /// More than one `t` (two header lines joined, or a value pasted twice).
            public static let headerDuplicateTimestamp = Code("header_duplicate_timestamp")
            /// No `t` element.
            public static let headerNoTimestamp = Code("header_no_timestamp")
            /// `t` is not a whole number of seconds.
            public static let timestampNotInteger = Code("timestamp_not_integer")
            /// No `v1` element (perhaps only `v0`).
            public static let headerNoV1 = Code("header_no_v1")
            /// A `v1` in uppercase hex, which Stripe never sends.
            public static let signatureUppercase = Code("signature_uppercase")
            /// A `v1` that is not 64 hex digits (cut off, or padded).
            public static let signatureWrongLength = Code("signature_wrong_length")
            /// A bare 64-hex-digit value: the legacy install HMAC of a blog post, not Stripe's `t=…,v1=…`.
            public static let headerLegacyInstallHMAC = Code("header_legacy_install_hmac")

            /// The timestamp is older than the window allows.
            public static let timestampTooOld = Code("timestamp_too_old")
            /// The timestamp is further in the future than the window allows.
            public static let timestampInFuture = Code("timestamp_in_future")
            /// `t` looks like milliseconds, not seconds.
            public static let timestampInMilliseconds = Code("timestamp_in_milliseconds")

            /// The payload is over the size limit.
            public static let payloadTooLarge = Code("payload_too_large")
            /// The payload is empty.
            public static let payloadEmpty = Code("payload_empty")
            /// Whitespace or a line break before or after the payload (a file saved with a final newline).
            public static let payloadSurroundingWhitespace = Code("payload_surrounding_whitespace")
            /// The JSON was parsed and written again: spaces, `\u` escapes, `\/`, or numbers written otherwise.
            public static let payloadReserialized = Code("payload_reserialized")
            /// The keys are not in the order Stripe signs them (extra values, then `user_id`, then `account_id`).
            public static let payloadKeyOrder = Code("payload_key_order")
            /// `user_id` or `account_id` is missing from the payload.
            public static let payloadMissingIDs = Code("payload_missing_ids")
            /// The payload has keys the extension did not sign.
            public static let payloadExtraKey = Code("payload_extra_key")
            /// The payload has a `mode` the extension did not sign.
            public static let modeNotSigned = Code("mode_not_signed")
            /// The extension signed a `mode` the payload lacks.
            public static let modeMissing = Code("mode_missing")
            /// The payload is not JSON; UI calls and webhooks always are.
            public static let payloadNotJSON = Code("payload_not_json")
            /// No secret and no usual mistake explains the mismatch.
            public static let noExplanation = Code("no_explanation")
        }

        /// The stable code.
        public let code: Code
        /// Whether this is a problem or context.
        public let severity: Severity
        /// The finding in plain words, with the fix when there is one.
        public let message: String

        /// Creates a finding.
        public init(_ code: Code, _ severity: Severity, _ message: String) {
            self.code = code
            self.severity = severity
            self.message = message
        }

        public var description: String { "[\(code)] \(message)" }
    }
}
