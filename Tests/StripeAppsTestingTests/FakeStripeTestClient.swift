import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StripeApps

/// One answer of the fake, read over real HTTP.
struct WireAnswer: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: String

    /// The body as JSON (`null` when it is not JSON).
    var json: PayloadValue {
        (try? PayloadValue.parse(body)) ?? .null
    }

    /// `error.code`, `error.type`, `error.param` and `error.message` of an API error.
    var errorCode: String? { json["error"]?["code"]?.stringValue }
    var errorType: String? { json["error"]?["type"]?.stringValue }
    var errorParam: String? { json["error"]?["param"]?.stringValue }
    var errorMessage: String? { json["error"]?["message"]?.stringValue }

    /// The first value of header `name`.
    func header(_ name: String) -> String? {
        headers.first(name: name)
    }

    /// The ids in a list's `data`.
    var listIDs: [String] {
        json["data"]?.elements.compactMap { $0["id"]?.stringValue } ?? []
    }
}

extension PayloadValue {
    /// The elements of an array (empty otherwise).
    var elements: [PayloadValue] {
        guard case .array(let values) = self else { return [] }
        return values
    }

    /// The keys of an object (empty otherwise).
    var keys: [String] {
        guard case .object(let fields) = self else { return [] }
        return fields.map(\.key)
    }
}

/// A tiny Stripe client over AsyncHTTPClient, speaking the form encoding by hand so tests see the wire.
struct WireClient: Sendable {
    let baseURL: URL
    var key: String?
    var basicAuth = false

    func get(_ pathAndQuery: String, headers: [(String, String)] = []) async throws -> WireAnswer {
        try await send("GET", pathAndQuery, form: nil, headers: headers)
    }

    func post(_ path: String, _ form: String, headers: [(String, String)] = []) async throws -> WireAnswer {
        try await send("POST", path, form: form, headers: headers)
    }

    func send(
        _ method: String,
        _ pathAndQuery: String,
        form: String?,
        contentType: String = "application/x-www-form-urlencoded",
        headers: [(String, String)] = []
    ) async throws -> WireAnswer {
        var request = HTTPClientRequest(url: baseURL.absoluteString + pathAndQuery)
        request.method = HTTPMethod(rawValue: method)
        if let key {
            if basicAuth {
                request.headers.add(name: "Authorization", value: "Basic " + Data("\(key):".utf8).base64EncodedString())
            } else {
                request.headers.add(name: "Authorization", value: "Bearer \(key)")
            }
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: form))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 22)
        return WireAnswer(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    /// The same client with another key.
    func with(key: String?) -> WireClient {
        var copy = self
        copy.key = key
        return copy
    }
}
