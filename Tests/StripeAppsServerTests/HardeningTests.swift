import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

/// Items of the hardening review: each of these failed before its fix.
@Suite struct HardeningTests {
    /// Two `Stripe-Signature` lines would be joined with a comma by HTTP, and a second `t=` would slip past the
    /// one-timestamp rule: refused with 400 on the webhook and the UI routes, and nothing is stored.
    @Test func aRepeatedSignatureHeaderLineIsRefused() async throws {
        let store = InMemoryStorage()
        try await withTestApp(configuration: WebhookRouteTests.configuration(), storage: store) { client in
            let body = WebhookRouteTests.event()
            let good = try #require(try WebhookRouteTests.signed(body)[.stripeSignature])
            var headers: HTTPFields = [.contentType: "application/json"]
            headers.append(HTTPField(name: .stripeSignature, value: good))
            headers.append(HTTPField(name: .stripeSignature, value: "t=1"))
            let webhook = try await client.execute(
                uri: "/webhooks/test", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(webhook.status == .badRequest)
            #expect(webhook.errorCode == "duplicate_signature_header")
            #expect(try await store.inbox.events(status: nil, limit: 10).isEmpty)

            var signed = try signer.post(userID: "usr_1", accountID: "acct_1")
            let value = try #require(signed.headers[.stripeSignature])
            signed.headers.append(HTTPField(name: .stripeSignature, value: value))
            let ui = try await client.execute("/api/whoami", .post, signed)
            #expect(ui.status == .badRequest)
            #expect(ui.errorCode == "duplicate_signature_header")
        }
    }

    /// Every response says `nosniff`, errors and unknown routes included; HTML pages may not be framed.
    @Test func everyResponseForbidsSniffingAndPagesForbidFraming() async throws {
        try await withTestApp { client in
            let answers = [
                try await client.execute(uri: "/healthz", method: .get),
                try await client.execute(uri: "/no/such/route", method: .get),
                try await client.execute(uri: "/webhooks/test", method: .post, body: ByteBuffer(string: "{}")),
                try await client.execute("/api/whoami", .post, signer.post(userID: "usr_1", accountID: "acct_1")),
                try await client.execute(uri: "/api/whoami", method: .options),
            ]
            for answer in answers {
                #expect(answer.headers[.xContentTypeOptions] == "nosniff", "\(answer.status)")
            }
            let page = try await client.execute(uri: "/install/callback?error=access_denied", method: .get)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
        }
    }
}
