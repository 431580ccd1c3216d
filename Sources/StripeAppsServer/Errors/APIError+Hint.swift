public import StripeApps

extension APIError {
    /// The error with a development hint: `hint` (the diagnosis's ``StripeApps/SignatureDiagnosis/explanation``) and
    /// `hint_codes` (its finding codes) added to the error object.
    ///
    /// Only for development mode: the hint tells whoever sent the request what a valid one would look like, so a
    /// production server never adds it and keeps the body to its code and message. The hint names secrets by label,
    /// kind and fingerprint only, and the payload by its key names. The causes and fixes of every code are in
    /// `Docs/troubleshooting.md`.
    ///
    /// - Parameter diagnosis: The diagnosis of the failed verification.
    /// - Returns: The same status, code, message and headers, with the hint.
    public func withHint(_ diagnosis: SignatureDiagnosis) -> APIError {
        APIError(
            status,
            code: code,
            message: message,
            details: details + [
                PayloadField("hint", .string(diagnosis.explanation)),
                PayloadField("hint_codes", .array(diagnosis.findings.map { .string("\($0.code)") })),
            ],
            headers: headers
        )
    }
}
