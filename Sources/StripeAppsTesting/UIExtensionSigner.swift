public import Foundation
public import HTTPTypes
public import NIOCore
public import StripeApps
import StripeAppsServer

/// Signs requests the way a Stripe UI extension's `fetchStripeSignature` does, for tests and the simulator.
///
/// ```swift
/// let signer = try UIExtensionSigner(secrets: ["absec_test"])
/// let request = try signer.post(userID: "usr_1", accountID: "acct_1", mode: .test, extra: [PayloadField("theme", .string("dark"))])
/// try await client.execute(uri: "/api/settings", method: .post, headers: request.headers, body: request.body)
/// ```
public struct UIExtensionSigner: Sendable {
    /// The signer holding the app secrets.
    public let signer: SignatureSigner

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - secrets: The app signing secrets; one `v1` per secret, as during a rotation.
    ///   - now: The clock that supplies `t`.
    public init(secrets: [String], now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.signer = SignatureSigner(keyring: try SigningKeyring(secrets: secrets), now: now)
    }

    /// A signed POST: the body is `JSON.stringify({...extra, user_id, account_id})`, with `mode` first when given.
    public func post(
        userID: String,
        accountID: String,
        mode: Tenant.Mode? = nil,
        extra: [PayloadField] = [],
        roles: [StripeRole]? = nil,
        timestamp: Int64? = nil
    ) throws -> SignedUIRequest {
        let modeField = mode.map { [PayloadField("mode", .string($0.description))] } ?? []
        let payload = try UIRequestPayload(userID: userID, accountID: accountID, extra: modeField + extra, roles: roles)
        return post(rawBody: payload.bytes, timestamp: timestamp)
    }

    /// A POST of exactly these bytes, signed.
    public func post(rawBody: [UInt8], timestamp: Int64? = nil) -> SignedUIRequest {
        let header = signer.signatureHeader(for: rawBody, timestamp: timestamp)
        return SignedUIRequest(
            headers: [.contentType: "application/json", .stripeSignature: header.headerValue],
            body: ByteBuffer(bytes: rawBody)
        )
    }

    /// A signed GET or DELETE: the ids travel in headers and the signature covers the rebuilt payload.
    public func get(userID: String, accountID: String, mode: Tenant.Mode? = nil, timestamp: Int64? = nil) throws
        -> SignedUIRequest
    {
        let extra = mode.map { [PayloadField("mode", .string($0.description))] } ?? []
        let payload = try UIRequestPayload(userID: userID, accountID: accountID, extra: extra)
        var headers: HTTPFields = [
            .stripeSignature: signer.signatureHeader(for: payload.bytes, timestamp: timestamp).headerValue,
            .stripeUserID: userID,
            .stripeAccountID: accountID,
        ]
        if let mode { headers[.stripeMode] = mode.description }
        return SignedUIRequest(headers: headers, body: nil)
    }
}

/// The headers and body of a signed UI request.
public struct SignedUIRequest: Sendable {
    /// `Stripe-Signature`, and the identity headers of a GET.
    public var headers: HTTPFields
    /// The signed body of a POST.
    public var body: ByteBuffer?

    /// Creates a request.
    public init(headers: HTTPFields, body: ByteBuffer?) {
        self.headers = headers
        self.body = body
    }
}
