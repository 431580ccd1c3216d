import CustomerSync
import Foundation
import HTTPTypes
import HummingbirdTesting
import StripeApps
import StripeAppsTesting
import Testing

/// The UI extension's calls (`ui/src/api.ts`) name routes the backend has, with the method it answers: each
/// `signedGet` and `signedPost` path of the TypeScript, called as the extension would, gets an answer from a route
/// (never 404 or 405).
@Suite struct UIExtensionRoutesTests {
    /// The calls in `ui/src/api.ts`: the method of the helper and the path, `${…}` replaced by a customer id.
    static func calls() throws -> [(method: HTTPRequest.Method, path: String)] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("ui/src/api.ts")
        let source = try String(contentsOf: file, encoding: .utf8)
        // `signedGet<T>(context, '/api/…')` and `signedPost(context, `/api/…/${id}/…`)`, type arguments or not.
        let call = /signed(Get|Post)(?:<[^>]*>)?\(context, ['`]([^'`]*)['`]/
        var calls: [(HTTPRequest.Method, String)] = []
        for match in source.matches(of: call) {
            let path = String(match.output.2).replacing(/\$\{[^}]*\}/, with: "cus_route_check")
            calls.append((match.output.1 == "Get" ? .get : .post, path))
        }
        return calls
    }

    @Test func everyCallOfTheExtensionReachesARoute() async throws {
        let calls = try Self.calls()
        #expect(calls.count == 5, "\(calls)")
        try await CustomerSyncTests.withApp { app in
            let tenant = CustomerSyncTests.tenantA
            try await app.backend.install(tenant)
            for (method, path) in calls {
                let answer = try await app.backend.call(
                    method, path, as: app.user(tenant), json: [PayloadField("api_key", .string("crm_key_tenant_a"))])
                #expect(answer.status != .notFound && answer.status != .methodNotAllowed, "\(method) \(path)")
                #expect(answer.status.code < 500, "\(method) \(path): \(answer.status)")
            }
        }
    }
}
