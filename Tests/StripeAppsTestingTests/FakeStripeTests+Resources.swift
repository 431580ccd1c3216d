import Foundation
import StripeApps
import StripeAppsTesting
import Testing

/// ``FakeStripe``'s Secret Store, list pagination and OAuth over real HTTP.
extension FakeStripeTests {
    // MARK: Secret Store

    @Test func secretsLiveInTheirScopeAndShowPayloadsOnlyWhenExpanded() async throws {
        try await serve { client in
            let account = try await client.post("/v1/apps/secrets", "name=token&payload=A&scope[type]=account")
            #expect(account.status == 200)
            #expect(account.json["object"] == .string("apps.secret"))
            #expect(account.json["id"]?.stringValue?.hasPrefix("appsecret_") == true)
            #expect(account.json["scope"] == .object([PayloadField("type", .string("account"))]))
            #expect(account.json["expires_at"] == .null)
            #expect(account.json["payload"] == nil)
            let user = try await client.post(
                "/v1/apps/secrets",
                "name=token&payload=U&scope%5Btype%5D=user&scope%5Buser%5D=usr_1&expand[]=payload"
            )
            #expect(user.json["payload"] == .string("U"))
            #expect(user.json["scope"]?["user"] == .string("usr_1"))

            let found = try await client.get("/v1/apps/secrets/find?name=token&scope[type]=account&expand[]=payload")
            #expect(found.json["payload"] == .string("A"))
            let plain = try await client.get("/v1/apps/secrets/find?name=token&scope[type]=user&scope[user]=usr_1")
            #expect(plain.json["payload"] == nil)
            #expect(plain.json["id"] == user.json["id"])
            let otherUser = try await client.get("/v1/apps/secrets/find?name=token&scope[type]=user&scope[user]=usr_2")
            #expect(otherUser.status == 404)
            #expect(otherUser.errorCode == "resource_missing")

            let list = try await client.get("/v1/apps/secrets?scope[type]=user&scope[user]=usr_1")
            #expect(list.json["object"] == .string("list"))
            #expect(list.json["url"] == .string("/v1/apps/secrets"))
            #expect(list.listIDs == [user.json["id"]?.stringValue].compactMap { $0 })
            #expect(list.json["data"]?.elements.first?["payload"] == nil)
            let expanded = try await client.get(
                "/v1/apps/secrets?scope[type]=user&scope[user]=usr_1&expand[]=data.payload")
            #expect(expanded.json["data"]?.elements.first?["payload"] == .string("U"))

            let deleted = try await client.post("/v1/apps/secrets/delete", "name=token&scope[type]=account")
            #expect(deleted.json["deleted"] == .bool(true))
            #expect(deleted.json["name"] == .string("token"))
            #expect(try await client.get("/v1/apps/secrets/find?name=token&scope[type]=account").status == 404)
            #expect(try await client.post("/v1/apps/secrets/delete", "name=token&scope[type]=account").status == 404)
            #expect(
                try await client.get("/v1/apps/secrets/find?name=token&scope[type]=user&scope[user]=usr_1").status
                    == 200)
        }
    }

    @Test func secretScopesAreValidated() async throws {
        try await serve { client in
            let noScope = try await client.post("/v1/apps/secrets", "name=a&payload=b")
            #expect(noScope.status == 400)
            #expect(noScope.errorCode == "parameter_missing")
            #expect(noScope.errorParam == "scope")
            let noUser = try await client.post("/v1/apps/secrets", "name=a&payload=b&scope[type]=user")
            #expect(noUser.errorParam == "scope[user]")
            let badType = try await client.post("/v1/apps/secrets", "name=a&payload=b&scope[type]=team")
            #expect(badType.errorParam == "scope[type]")
            let stray = try await client.post("/v1/apps/secrets", "name=a&payload=b&scope[type]=account&scope[user]=u")
            #expect(stray.errorParam == "scope[user]")
            let noName = try await client.post("/v1/apps/secrets", "payload=b&scope[type]=account")
            #expect(noName.errorParam == "name")
            let findWithoutScope = try await client.get("/v1/apps/secrets/find?name=a")
            #expect(findWithoutScope.errorParam == "scope")
        }
    }

    @Test func aScopeHoldsTenSecretsButReplacingOneIsFine() async throws {
        try await serve { client in
            for index in 0..<FakeStripe.secretLimitPerScope {
                let answer = try await client.post("/v1/apps/secrets", "name=s\(index)&payload=p&scope[type]=account")
                #expect(answer.status == 200)
            }
            let eleventh = try await client.post("/v1/apps/secrets", "name=s10&payload=p&scope[type]=account")
            #expect(eleventh.status == 400)
            #expect(eleventh.errorCode == "secret_limit_exceeded")
            let replaced = try await client.post("/v1/apps/secrets", "name=s3&payload=new&scope[type]=account")
            #expect(replaced.status == 200)
            let found = try await client.get("/v1/apps/secrets/find?name=s3&scope[type]=account&expand[]=payload")
            #expect(found.json["payload"] == .string("new"))
            // Another scope has its own ten.
            let user = try await client.post(
                "/v1/apps/secrets", "name=s10&payload=p&scope[type]=user&scope[user]=usr_1")
            #expect(user.status == 200)
        }
    }

    @Test func secretsExpireWithTheInjectedClock() async throws {
        let now = Int64(clock.now.timeIntervalSince1970)
        try await serve { client in
            let past = try await client.post(
                "/v1/apps/secrets", "name=a&payload=b&scope[type]=account&expires_at=\(now)")
            #expect(past.status == 400)
            #expect(past.errorParam == "expires_at")
            let tooFar = now + 101 * 365 * 86_400
            let far = try await client.post(
                "/v1/apps/secrets",
                "name=a&payload=b&scope[type]=account&expires_at=\(tooFar)"
            )
            #expect(far.errorParam == "expires_at")

            let soon = try await client.post(
                "/v1/apps/secrets", "name=a&payload=b&scope[type]=account&expires_at=\(now + 60)")
            #expect(soon.json["expires_at"] == .number(Double(now + 60)))
            #expect(try await client.get("/v1/apps/secrets/find?name=a&scope[type]=account").status == 200)
            clock.advance(by: .seconds(60))
            #expect(try await client.get("/v1/apps/secrets/find?name=a&scope[type]=account").status == 404)
            #expect(try await client.get("/v1/apps/secrets?scope[type]=account").listIDs.isEmpty)
        }
    }

    // MARK: Pagination

    @Test func listsPageWithCursorsInBothDirections() async throws {
        let base = clock.now
        let ids = (0..<5).map { index in
            stripe.addEvent(
                type: index.isMultiple(of: 2) ? "invoice.paid" : "customer.updated",
                account: "acct_1",
                deliverySuccess: index != 3,
                created: base.addingTimeInterval(TimeInterval(index))
            )
        }
        let newestFirst = Array(ids.reversed())
        let connected = [("Stripe-Account", "acct_1")]
        try await serve { client in
            let first = try await client.get("/v1/events?limit=2", headers: connected)
            #expect(first.listIDs == Array(newestFirst[0..<2]))
            #expect(first.json["has_more"] == .bool(true))
            #expect(first.json["url"] == .string("/v1/events"))
            let second = try await client.get("/v1/events?limit=2&starting_after=\(newestFirst[1])", headers: connected)
            #expect(second.listIDs == Array(newestFirst[2..<4]))
            #expect(second.json["has_more"] == .bool(true))
            let last = try await client.get("/v1/events?limit=2&starting_after=\(newestFirst[3])", headers: connected)
            #expect(last.listIDs == [newestFirst[4]])
            #expect(last.json["has_more"] == .bool(false))

            let back = try await client.get("/v1/events?limit=2&ending_before=\(newestFirst[4])", headers: connected)
            #expect(back.listIDs == Array(newestFirst[2..<4]))
            #expect(back.json["has_more"] == .bool(true))
            let top = try await client.get("/v1/events?limit=2&ending_before=\(newestFirst[2])", headers: connected)
            #expect(top.listIDs == Array(newestFirst[0..<2]))
            #expect(top.json["has_more"] == .bool(false))

            let unknown = try await client.get("/v1/events?starting_after=evt_nope", headers: connected)
            #expect(unknown.status == 400)
            #expect(unknown.errorCode == "resource_missing")
            #expect(unknown.errorParam == "starting_after")
            let unknownBefore = try await client.get("/v1/events?ending_before=evt_nope", headers: connected)
            #expect(unknownBefore.errorParam == "ending_before")
            for limit in ["0", "101", "ten"] {
                let bad = try await client.get("/v1/events?limit=\(limit)", headers: connected)
                #expect(bad.status == 400)
                #expect(bad.errorParam == "limit")
            }

            let paid = try await client.get("/v1/events?types[]=invoice.paid", headers: connected)
            #expect(paid.listIDs == [ids[4], ids[2], ids[0]])
            let customers = try await client.get("/v1/events?type=customer.*", headers: connected)
            #expect(customers.listIDs == [ids[3], ids[1]])
            let failed = try await client.get("/v1/events?delivery_success=false", headers: connected)
            #expect(failed.listIDs == [ids[3]])
            #expect(failed.json["data"]?.elements.first?["pending_webhooks"] == .number(1))

            let event = try await client.get("/v1/events/\(ids[0])", headers: connected)
            #expect(event.json["object"] == .string("event"))
            #expect(event.json["account"] == .string("acct_1"))
            #expect(event.json["type"] == .string("invoice.paid"))
            #expect(event.json["request"]?["id"] == .null)
            #expect(try await client.get("/v1/events/\(ids[0])").status == 404)
        }
    }

    // MARK: OAuth

    @Test func authorizationCodesAreSingleUseAndReuseRevokesTheirTokens() async throws {
        let code = stripe.issueAuthorizationCode(account: "acct_new")
        try await serve { client in
            let exchange = try await client.post("/v1/oauth/token", "grant_type=authorization_code&code=\(code)")
            #expect(exchange.status == 200)
            #expect(exchange.json["stripe_user_id"] == .string("acct_new"))
            #expect(exchange.json["token_type"] == .string("bearer"))
            #expect(exchange.json["livemode"] == .bool(false))
            #expect(exchange.json["expires_in"] == .number(3600))
            #expect(exchange.json["scope"] == .string("stripe_apps"))
            #expect(exchange.json["stripe_publishable_key"]?.stringValue?.hasPrefix("pk_test_") == true)
            let token = try #require(exchange.json["access_token"]?.stringValue)
            #expect(token.hasPrefix("sk_test_oauth_"))

            let asAccount = try await client.with(key: token).get("/v1/account")
            #expect(asAccount.json["id"] == .string("acct_new"))
            // The exchange connected the account to the platform.
            #expect(try await client.get("/v1/account", headers: [("Stripe-Account", "acct_new")]).status == 200)
            let elsewhere = try await client.with(key: token).get(
                "/v1/account", headers: [("Stripe-Account", "acct_1")])
            #expect(elsewhere.status == 403)

            let again = try await client.post("/v1/oauth/token", "grant_type=authorization_code&code=\(code)")
            #expect(again.status == 400)
            #expect(again.json["error"] == .string("invalid_grant"))
            #expect(again.json["error_description"]?.stringValue != nil)
            #expect(try await client.with(key: token).get("/v1/account").status == 401)
        }
        #expect(stripe.requests[1].credential == .oauth)
    }

    @Test func refreshTokensRotateAndAreCounted() async throws {
        let code = stripe.issueAuthorizationCode(account: "acct_1")
        try await serve { client in
            let exchange = try await client.post("/v1/oauth/token", "grant_type=authorization_code&code=\(code)")
            let refresh = try #require(exchange.json["refresh_token"]?.stringValue)
            #expect(refresh.hasPrefix("rt_"))
            let rotated = try await client.post("/v1/oauth/token", "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(rotated.status == 200)
            let next = try #require(rotated.json["refresh_token"]?.stringValue)
            #expect(next != refresh)
            #expect(rotated.json["access_token"] != exchange.json["access_token"])

            let stale = try await client.post("/v1/oauth/token", "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(stale.status == 400)
            #expect(stale.json["error"] == .string("invalid_grant"))
            #expect(!stale.body.contains(refresh))
            #expect(
                try await client.post("/v1/oauth/token", "grant_type=refresh_token&refresh_token=\(next)").status == 200
            )

            let unsupported = try await client.post("/v1/oauth/token", "grant_type=password")
            #expect(unsupported.json["error"] == .string("unsupported_grant_type"))
        }
        #expect(stripe.refreshCount == 2)
        #expect(stripe.refreshCount(account: "acct_1") == 2)
        #expect(stripe.refreshCount(account: "acct_other") == 0)
    }

    @Test func codesAndAccessTokensExpireWithTheInjectedClock() async throws {
        let late = stripe.issueAuthorizationCode(account: "acct_1")
        let code = stripe.issueAuthorizationCode(account: "acct_1")
        try await serve { client in
            let exchange = try await client.post("/v1/oauth/token", "grant_type=authorization_code&code=\(code)")
            let token = try #require(exchange.json["access_token"]?.stringValue)
            clock.advance(by: .seconds(301))
            let expiredCode = try await client.post("/v1/oauth/token", "grant_type=authorization_code&code=\(late)")
            #expect(expiredCode.json["error"] == .string("invalid_grant"))
            #expect(try await client.with(key: token).get("/v1/account").status == 200)
            clock.advance(by: .seconds(3300))
            let expired = try await client.with(key: token).get("/v1/account")
            #expect(expired.status == 401)
            #expect(expired.errorCode == "api_key_expired")
            #expect(!expired.body.contains(token))
        }
    }

    @Test func onlyThePlatformKeyOfTheSameModeExchangesCodes() async throws {
        let code = stripe.issueAuthorizationCode(account: "acct_1", mode: .test)
        let restricted = stripe.issueRestrictedKey()
        try await serve { client in
            let viaRestricted = try await client.with(key: restricted)
                .post("/v1/oauth/token", "grant_type=authorization_code&code=\(code)")
            #expect(viaRestricted.status == 403)
            let viaLive = try await client.with(key: stripe.liveSecretKey)
                .post("/v1/oauth/token", "grant_type=authorization_code&code=\(code)")
            #expect(viaLive.json["error"] == .string("invalid_grant"))
            let exchange = try await client.post("/v1/oauth/token", "grant_type=authorization_code&code=\(code)")
            #expect(exchange.status == 200)
            let token = try #require(exchange.json["access_token"]?.stringValue)
            let viaToken = try await client.with(key: token).post(
                "/v1/oauth/token", "grant_type=refresh_token&refresh_token=x")
            #expect(viaToken.status == 403)
            let noKey = try await client.with(key: nil).post(
                "/v1/oauth/token", "grant_type=refresh_token&refresh_token=x")
            #expect(noKey.status == 401)
        }
    }
}
