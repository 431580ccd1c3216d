public import AsyncHTTPClient
public import NIOCore
public import NIOHTTP1
public import StripeApps
public import Tracing

/// Calls another service's API on behalf of a tenant, with that tenant's own credential for the service.
///
/// Many apps connect the merchant's Stripe account to a service where the merchant has an account too (an
/// email or accounting service): the merchant pastes their API key into the app's settings view, the backend
/// keeps it in a ``TenantSecretStore`` (``TenantCredentials``, encrypted in our storage and deleted on
/// uninstall, or ``SecretStoreSecrets``), and every call to the service for that tenant uses that key.
///
/// ```swift
/// let mailer = ExternalAPIClient(
///     baseURL: "https://api.mailer.example",
///     credentialName: "mailer.api_key",
///     secrets: credentials
/// )
/// let response = try await mailer.send(.POST, "/v1/messages", body: ByteBuffer(string: json), for: user.tenant)
/// ```
///
/// Errors never contain the credential, and the response body is read up to a limit.
public struct ExternalAPIClient: Sendable {
    /// Puts a credential on a request; the default sends `Authorization: Bearer <credential>`.
    public typealias Authorize = @Sendable (inout HTTPClientRequest, String) -> Void

    /// A response from the service.
    public struct Response: Sendable {
        /// The HTTP status.
        public let status: HTTPResponseStatus
        /// The headers.
        public let headers: HTTPHeaders
        /// The body.
        public let body: ByteBuffer
    }

    /// The service's base URL, without a trailing slash.
    public let baseURL: String
    /// The name the tenant's credential is stored under.
    public let credentialName: String
    private let secrets: any TenantSecretStore
    private let httpClient: HTTPClient
    private let timeout: Duration
    private let maximumResponseBytes: Int
    private let authorize: Authorize
    private let tracer: (any Tracer)?

    /// Creates a client; `tracer` gets the client span of each call, `nil` (the default) meaning the tracer
    /// bootstrapped in `InstrumentationSystem` when the call is made. Without `httpClient`, calls go through a client
    /// with `HTTPClient.shared`'s configuration and AsyncHTTPClient's own tracing off: a client that traces adds a
    /// span of its own per call, with the full URL, and a second `traceparent` header.
    public init(
        baseURL: String,
        credentialName: String,
        secrets: any TenantSecretStore,
        httpClient: HTTPClient? = nil,
        timeout: Duration = .seconds(30),
        maximumResponseBytes: Int = 4 << 20,
        authorize: @escaping Authorize = { request, credential in
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(credential)")
        },
        tracer: (any Tracer)? = nil
    ) {
        var baseURL = baseURL
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        self.baseURL = baseURL
        self.credentialName = credentialName
        self.secrets = secrets
        self.httpClient = httpClient ?? .untraced
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
        self.authorize = authorize
        self.tracer = tracer
    }

    /// Whether the tenant has connected the service (stored a credential).
    public func isConnected(_ tenant: Tenant) async throws -> Bool {
        try await secrets.secret(named: credentialName, for: tenant) != nil
    }

    /// Sends `method path` for `tenant` with the tenant's credential.
    ///
    /// Throws ``StripeAPIError/Code/missingCredential`` when the tenant has not stored one, and
    /// ``StripeAPIError/Code/connection``, ``StripeAPIError/Code/timeout`` or
    /// ``StripeAPIError/Code/invalidResponse`` (too large) without the credential in the message.
    /// Any HTTP status is returned, not thrown: the service's error format is the app's to read.
    public func send(
        _ method: HTTPMethod,
        _ path: String,
        headers: HTTPHeaders = [:],
        body: ByteBuffer? = nil,
        for tenant: Tenant
    ) async throws -> Response {
        // A path that starts with "/" cannot change the host of `baseURL` (unlike "@evil.example/…").
        guard path.hasPrefix("/") else {
            throw StripeAPIError(.invalidCall, message: "An external API path starts with / and stays on the service.")
        }
        guard let credential = try await secrets.secret(named: credentialName, for: tenant) else {
            throw StripeAPIError(.missingCredential, message: "\(tenant) has not stored \(credentialName).")
        }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers = headers
        if let body { request.body = .bytes(body) }
        authorize(&request, credential)
        // A client span per call; its W3C `traceparent` goes with the request when traces are configured, so
        // the service's own traces continue ours (without a tracer, nothing is added).
        let tracer = tracer ?? InstrumentationSystem.tracer
        return try await tracer.withSpan("HTTP \(method.rawValue)", ofKind: .client) { span in
            span.attributes["http.request.method"] = method.rawValue
            tracer.inject(span.context, into: &request.headers, using: HTTPHeadersInjector())
            let answer = try await HTTPExchange.perform(
                request,
                on: httpClient,
                timeout: timeout,
                maximumBytes: maximumResponseBytes,
                service: baseURL
            )
            span.attributes["http.response.status_code"] = Int(answer.status.code)
            return Response(status: answer.status, headers: answer.headers, body: answer.body)
        }
    }
}

/// Writes W3C trace context headers into an outgoing request's headers.
struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
