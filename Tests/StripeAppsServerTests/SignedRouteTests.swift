import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

@Suite struct SignedRouteTests {
    @Test func whoamiAnswersTheVerifiedIdentityAndInstallation() async throws {
        let store = InMemoryStorage()
        let tenant = Tenant(accountID: "acct_1", mode: .test)
        try await install(tenant, in: store)
        try await withTestApp(storage: store) { client in
            let request = try signer.post(
                userID: "usr_1",
                accountID: "acct_1",
                mode: .test,
                roles: [StripeRole(type: "builtIn", name: "Administrator")]
            )
            let response = try await client.execute("/api/whoami", .post, request)
            #expect(response.status == .ok)
            #expect(
                response.text
                    == #"{"account_id":"acct_1","user_id":"usr_1","mode":"test","roles":[{"type":"builtIn","name":"Administrator"}],"installation":{"status":"active"}}"#
            )
            // Same account, live mode: a different tenant, not installed.
            let live = try await client.execute(
                "/api/whoami", .post, signer.post(userID: "usr_1", accountID: "acct_1", mode: .live))
            #expect(try live.json()["installation"]?["status"] == .string("not_installed"))
            // No mode signed: identity only.
            let unsigned = try await client.execute(
                "/api/whoami", .post, signer.post(userID: "usr_1", accountID: "acct_1"))
            #expect(try unsigned.json()["mode"] == .null)
        }
    }

    @Test func rawBodyIsVerifiedByteForByteWhateverItsFormatting() async throws {
        try await withTestApp { client in
            // Pretty-printed JSON with the keys in another order: valid JSON, signed as is, so it verifies.
            let body = Array("{\n  \"account_id\": \"acct_9\",\n  \"user_id\": \"usr_9\", \"mode\": \"live\"\n}".utf8)
            let response = try await client.execute("/api/whoami", .post, signer.post(rawBody: body))
            #expect(response.status == .ok)
            #expect(try response.json()["account_id"] == .string("acct_9"))
        }
    }

    @Test func rotationAcceptsTheOldSecret() async throws {
        let old = try UIExtensionSigner(secrets: [oldAppSecret], now: { testNow })
        try await withTestApp { client in
            let response = try await client.execute(
                "/api/whoami", .post, old.post(userID: "usr_1", accountID: "acct_1"))
            #expect(response.status == .ok)
        }
    }

    @Test func unauthorizedCases() async throws {
        let other = try UIExtensionSigner(secrets: ["absec_someone_else"], now: { testNow })
        try await withTestApp { client in
            var cases: [(String, SignedUIRequest)] = [
                (
                    "timestamp_outside_tolerance",
                    try signer.post(userID: "usr_u", accountID: "acct_a", timestamp: 1_700_000_000 - 301)
                ),
                (
                    "timestamp_outside_tolerance",
                    try signer.post(userID: "usr_u", accountID: "acct_a", timestamp: 1_700_000_000 + 301)
                ),
                ("no_matching_signature", try other.post(userID: "usr_u", accountID: "acct_a")),
                (
                    "missing_header",
                    SignedUIRequest(headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
                ),
                (
                    "malformed_header",
                    SignedUIRequest(headers: [.stripeSignature: "v1=abc"], body: ByteBuffer(string: "{}"))
                ),
                (
                    "no_v1_signature",
                    SignedUIRequest(headers: [.stripeSignature: "t=1700000000"], body: ByteBuffer(string: "{}"))
                ),
            ]
            // A body changed after signing.
            var tampered = try signer.post(userID: "usr_1", accountID: "acct_1")
            tampered.body = ByteBuffer(string: #"{"user_id":"usr_1","account_id":"acct_2"}"#)
            cases.append(("no_matching_signature", tampered))
            for (code, request) in cases {
                let response = try await client.execute("/api/whoami", .post, request)
                #expect(response.status == .unauthorized, "\(code)")
                #expect(response.errorCode == code)
                #expect(response.headers[.accessControlAllowOrigin] == "*")
            }
        }
    }

    @Test func badRequestCases() async throws {
        try await withTestApp { client in
            let notJSON = signer.post(rawBody: Array("not json".utf8))
            #expect(try await client.execute("/api/whoami", .post, notJSON).errorCode == "invalid_payload")
            let noIdentity = signer.post(rawBody: Array(#"{"x":1}"#.utf8))
            #expect(try await client.execute("/api/whoami", .post, noIdentity).errorCode == "invalid_payload")
            let empty = signer.post(rawBody: [])
            #expect(try await client.execute("/api/whoami", .post, empty).errorCode == "missing_payload")
            let badMode = signer.post(rawBody: Array(#"{"mode":"prod","user_id":"usr_u","account_id":"acct_a"}"#.utf8))
            #expect(try await client.execute("/api/whoami", .post, badMode).errorCode == "invalid_mode")
            var noHeaders = try signer.get(userID: "usr_u", accountID: "acct_a", mode: .test)
            noHeaders.headers[.stripeAccountID] = nil
            let response = try await client.execute("/api/settings", .get, noHeaders)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "missing_identity_headers")
        }
    }

    @Test func getSignatureCoversTheModeHeader() async throws {
        try await withTestApp(installed: [Tenant(accountID: "acct_1", mode: .test)]) { client in
            var request = try signer.get(userID: "usr_1", accountID: "acct_1", mode: .test)
            #expect(try await client.execute("/api/settings", .get, request).status == .ok)
            // Switching the unsigned-looking header to live breaks the signature: the mode is signed.
            request.headers[.stripeMode] = "live"
            let switched = try await client.execute("/api/settings", .get, request)
            #expect(switched.status == .unauthorized)
            #expect(switched.errorCode == "no_matching_signature")
        }
    }

    @Test func oversizedBodyIs413BeforeVerification() async throws {
        try await withTestApp(configuration: .testing(maximumBodyBytes: 64)) { client in
            let big = signer.post(
                rawBody: Array(
                    #"{"pad":"\#(String(repeating: "x", count: 100))","user_id":"usr_u","account_id":"acct_a"}"#.utf8)
            )
            let response = try await client.execute("/api/whoami", .post, big)
            #expect(response.status == .contentTooLarge)
            #expect(response.errorCode == "payload_too_large")
            // Even without a signature: the size is checked first.
            let unsigned = try await client.execute(
                uri: "/api/whoami",
                method: .post,
                body: ByteBuffer(repeating: 0x20, count: 1000)
            )
            #expect(unsigned.status == .contentTooLarge)
        }
    }

    @Test func roleRequirementIsEnforcedFromSignedRoles() async throws {
        let configureAPI: @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { api in
            api.group("admin").add(middleware: RequireRolesMiddleware(anyOf: ["Administrator"]))
                .post("report") { _, context in Response.json(.string(context.user.accountID)) }
        }
        try await withTestApp(installed: [Tenant(accountID: "acct_a", mode: .test)], configureAPI: configureAPI) {
            client in
            let admin = try signer.post(
                userID: "usr_u",
                accountID: "acct_a",
                roles: [StripeRole(type: "builtIn", name: "Administrator")]
            )
            #expect(try await client.execute("/api/admin/report", .post, admin).status == .ok)
            let viewer = try signer.post(
                userID: "usr_u", accountID: "acct_a", roles: [StripeRole(type: "builtIn", name: "View only")])
            let denied = try await client.execute("/api/admin/report", .post, viewer)
            #expect(denied.status == .forbidden)
            #expect(denied.errorCode == "insufficient_role")
            let none = try await client.execute(
                "/api/admin/report", .post, signer.post(userID: "usr_u", accountID: "acct_a"))
            #expect(none.status == .forbidden)
            // A custom role that borrows a built-in role's name is not that role.
            let impostor = try signer.post(userID: "usr_u", accountID: "acct_a", roles: [.custom("Administrator")])
            #expect(try await client.execute("/api/admin/report", .post, impostor).status == .forbidden)
        }
    }

    @Test func customRolesAreRequiredByTypeAndName() async throws {
        let configureAPI: @Sendable (RouterGroup<VerifiedRequestContext>) -> Void = { api in
            api.group("audit").add(middleware: RequireRolesMiddleware(anyOfRoles: [.custom("Auditor")]))
                .post("log") { _, context in Response.json(.string(context.user.accountID)) }
        }
        try await withTestApp(installed: [Tenant(accountID: "acct_a", mode: .test)], configureAPI: configureAPI) {
            client in
            let auditor = try signer.post(userID: "usr_u", accountID: "acct_a", roles: [.custom("Auditor")])
            #expect(try await client.execute("/api/audit/log", .post, auditor).status == .ok)
            let builtIn = try signer.post(userID: "usr_u", accountID: "acct_a", roles: [.builtIn("Auditor")])
            let denied = try await client.execute("/api/audit/log", .post, builtIn)
            #expect(denied.status == .forbidden)
            #expect(denied.errorCode == "insufficient_role")
        }
    }

    @Test func notFoundAndMethodNotAllowed() async throws {
        try await withTestApp { client in
            let missing = try await client.execute(uri: "/api/nope", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            let wrongMethod = try await client.execute(uri: "/api/whoami", method: .get)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")
            #expect(wrongMethod.errorCode == "method_not_allowed")
            let deleteSettings = try await client.execute(uri: "/api/settings", method: .delete)
            #expect(deleteSettings.status == .methodNotAllowed)
            #expect(deleteSettings.headers[.allow] == "GET, POST")
            #expect(try await client.execute(uri: "/healthz", method: .post).status == .methodNotAllowed)
        }
    }
}
