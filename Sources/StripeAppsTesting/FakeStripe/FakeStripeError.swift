import Foundation
import StripeApps

/// An error answer of the fake Stripe API: the status, the JSON body and whether an idempotent replay keeps it.
struct FakeStripeError: Error, Sendable {
    /// The HTTP status.
    var status: Int
    /// The whole JSON body (Stripe's `{"error":{…}}`, or the flat OAuth shape).
    var body: PayloadValue
    /// Extra response headers.
    var headers: [(name: String, value: String)] = []
    /// Whether the answer is saved for an `Idempotency-Key`; Stripe saves nothing for requests that failed
    /// parameter validation, but does save errors that happen while the request executes.
    var isStored: Bool

    /// Stripe's usual `{"error":{"type","code","doc_url","message","param"}}`; absent parts are left out.
    static func api(
        status: Int,
        type: String,
        code: String? = nil,
        message: String,
        param: String? = nil,
        isStored: Bool = true
    ) -> FakeStripeError {
        var fields: [PayloadField] = []
        if let code {
            fields.append(PayloadField("code", .string(code)))
            let slug = code.replacingOccurrences(of: "_", with: "-")
            fields.append(PayloadField("doc_url", .string("https://stripe.com/docs/error-codes/\(slug)")))
        }
        fields.append(PayloadField("message", .string(message)))
        if let param { fields.append(PayloadField("param", .string(param))) }
        fields.append(PayloadField("type", .string(type)))
        return FakeStripeError(
            status: status,
            body: .object([PayloadField("error", .object(fields))]),
            isStored: isStored
        )
    }

    /// A 400 `invalid_request_error` raised while validating parameters (never stored for idempotency).
    static func invalidParameter(_ message: String, code: String? = nil, param: String? = nil) -> FakeStripeError {
        api(status: 400, type: "invalid_request_error", code: code, message: message, param: param, isStored: false)
    }

    /// `parameter_missing`.
    static func missing(_ param: String) -> FakeStripeError {
        invalidParameter("Missing required param: \(param).", code: "parameter_missing", param: param)
    }

    /// `parameter_unknown`.
    static func unknown(_ param: String) -> FakeStripeError {
        invalidParameter("Received unknown parameter: \(param)", code: "parameter_unknown", param: param)
    }

    /// `parameter_invalid_empty`, for `name=` on a parameter that cannot be unset.
    static func empty(_ param: String) -> FakeStripeError {
        invalidParameter(
            "You passed an empty string for '\(param)'. We assume empty values are an attempt to unset a parameter; "
                + "however '\(param)' cannot be unset. You should remove '\(param)' from your request or supply "
                + "a non-empty value.",
            code: "parameter_invalid_empty",
            param: param
        )
    }

    /// `parameters_exclusive`.
    static func exclusive(_ first: String, _ second: String) -> FakeStripeError {
        invalidParameter(
            "You may only specify one of these parameters: \(first), \(second).",
            code: "parameters_exclusive",
            param: first
        )
    }

    /// A 404 `resource_missing` for an object that does not exist in the acting account and mode.
    static func noSuch(_ resource: String, id: String, param: String = "id") -> FakeStripeError {
        api(
            status: 404,
            type: "invalid_request_error",
            code: "resource_missing",
            message: "No such \(resource): '\(id)'",
            param: param
        )
    }

    /// The 404 for a method and path the fake does not serve.
    static func unrecognized(method: String, path: String) -> FakeStripeError {
        api(
            status: 404,
            type: "invalid_request_error",
            message: "Unrecognized request URL (\(method): \(path)). Please see https://stripe.com/docs or we can "
                + "help at https://support.stripe.com/.",
            isStored: false
        )
    }

    /// The flat OAuth error shape, `{"error":"invalid_grant","error_description":"…"}`.
    static func oauth(_ error: String, _ description: String, status: Int = 400) -> FakeStripeError {
        FakeStripeError(
            status: status,
            body: .object([
                PayloadField("error", .string(error)),
                PayloadField("error_description", .string(description)),
            ]),
            isStored: true
        )
    }
}
