import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StripeApps
import StripeAppsAPI
import Testing

/// Our wire format against localstripe, a fake of the Stripe API we did not write: its form parser reads our
/// nested keys, its JSON is read by our models, its errors by our error decoding.
///
/// localstripe ignores `Stripe-Account` and does not replay idempotency keys; those are checked against our
/// own fake (``FakeStripeClientTests``).
@Suite("localstripe wire format", .serialized)
struct LocalStripeWireTests {
    static let tenant = Tenant(accountID: "acct_1LocalStripeTest", mode: .test)

    func client(_ server: LocalStripe, key: String = "sk_test_localstripe_key") throws -> StripeClient {
        let api = try StripeAPI(
            configuration: StripeAPIConfiguration(baseURL: server.baseURL, retryPolicy: .none),
            secretKeys: [APICredential(secretKey: key)]
        )
        return try api.client(for: Self.tenant)
    }

    @Test("customers create sends nested metadata[…] and reads the customer back")
    func createCustomer() async throws {
        try await withLocalStripe { server in
            let client = try client(server)
            let created = try await client.customers.create([
                "email": "jenny.rosen@example.com",
                "name": "Jenny Rosen",
                "description": "Ünïcode & spaces = fine",
                "metadata": ["plan": "pro", "seats": 3, "note": "a&b=c [x]"],
            ])
            #expect(created.id.hasPrefix("cus_"))
            #expect(created.email == "jenny.rosen@example.com")
            #expect(created.description == "Ünïcode & spaces = fine")
            #expect(created.metadata == ["plan": "pro", "seats": "3", "note": "a&b=c [x]"])
            #expect(created.livemode == false)
            let fetched = try await client.customers.retrieve(created.id)
            #expect(fetched == created)
            let raw = try await client.get("/v1/customers/\(created.id)").json()
            #expect(raw["object"]?.stringValue == "customer")
        }
    }

    @Test("list pages with starting_after and auto-pagination visits every customer once")
    func pagination() async throws {
        try await withLocalStripe { server in
            let client = try client(server)
            var emails: Set<String> = []
            for index in 0..<7 {
                let customer = try await client.customers.create(["email": .string("c\(index)@example.com")])
                emails.insert(try #require(customer.email))
            }
            let first = try await client.customers.list(["limit": 3])
            #expect(first.data.count == 3)
            #expect(first.hasMore)
            var seen: [String] = []
            for try await customer in client.customers.all(limit: 2) {
                seen.append(try #require(customer.email))
            }
            #expect(seen.count == 7)
            #expect(Set(seen) == emails)
        }
    }

    @Test("events list decodes localstripe's customer.created events")
    func events() async throws {
        try await withLocalStripe { server in
            let client = try client(server)
            let customer = try await client.customers.create(["email": "events@example.com"])
            var events: [AppEvent] = []
            for try await event in client.events.all(type: "customer.created", limit: 1) {
                events.append(event)
            }
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.type == "customer.created")
            #expect(event.id.hasPrefix("evt_"))
            #expect(event.isLiveMode == false)
            #expect(event.object?["id"]?.stringValue == customer.id)
            let again = try await client.events.retrieve(event.id)
            #expect(again.id == event.id)
        }
    }

    @Test("errors decode: an unknown customer is invalid_request 404, a missing key is authentication 401")
    func errors() async throws {
        try await withLocalStripe { server in
            let client = try client(server)
            let missing = await #expect(throws: StripeAPIError.self) {
                try await client.customers.retrieve("cus_doesnotexist")
            }
            #expect(missing?.code == .invalidRequest)
            #expect(missing?.httpStatus == 404)
            #expect(missing?.type == "invalid_request_error")

            // localstripe accepts any key; without one it answers 401.
            let response = try await rawRequest(server.baseURL + "/v1/customers")
            let error = try #require(response)
            #expect(error.code == .authentication)
            #expect(error.httpStatus == 401)
        }
    }

    /// A call without any `Authorization`, which our client never sends, decoded by our error decoding.
    private func rawRequest(_ url: String) async throws -> StripeAPIError? {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return StripeAPIError.decoding(status: Int(response.status.code), body: Array(buffer: body))
    }
}
