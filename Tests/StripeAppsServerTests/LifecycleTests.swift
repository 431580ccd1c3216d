import AsyncHTTPClient
import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import StripeApps
import StripeAppsServer
import StripeAppsTesting
import Testing

@Suite struct LifecycleTests {
    @Test func developmentModeKeepsOneGeneratedSecretAndBindsLoopback() async throws {
        let store = InMemoryStorage()
        let configuration = AppConfiguration(host: "0.0.0.0", port: 0)
        #expect(configuration.isDevelopmentMode)
        #expect(configuration.bindHost == "127.0.0.1")
        let keyring = try await appKeyring(configuration: configuration, metadata: store.metadata)
        let again = try await appKeyring(configuration: configuration, metadata: store.metadata)
        #expect(keyring.secrets.map(\.fingerprint) == again.secrets.map(\.fingerprint))
        let secret = try await developmentSecret(in: store.metadata)
        #expect(secret.hasPrefix("absec_dev_") && secret.count == "absec_dev_".count + 64)

        let developer = try UIExtensionSigner(secrets: [secret], now: { testNow })
        let app = try buildApplication(
            configuration: configuration, storage: store, hooks: ApplicationHooks(now: { testNow }))
        try await app.test(.router) { client in
            let response = try await client.execute(
                "/api/whoami", .post, developer.post(userID: "usr_dev", accountID: "acct_dev", mode: .test))
            #expect(response.status == .ok)
            // Development mode needs no installation for the tenant routes: a fresh serve works out of the box.
            let settings = try await client.execute(
                "/api/settings", .get, developer.get(userID: "usr_dev", accountID: "acct_dev", mode: .test))
            #expect(settings.status == .ok)
            // The production secrets of another deployment do not work here.
            #expect(
                try await client.execute("/api/whoami", .post, signer.post(userID: "usr_u", accountID: "acct_a")).status
                    == .unauthorized)
        }
        #expect(try AppConfiguration.testing().bindHost == "127.0.0.1")
        var production = try AppConfiguration.testing()
        production.host = "0.0.0.0"
        #expect(production.bindHost == "0.0.0.0")
    }

    @Test func configurationIsReadFromEnvironmentNamesWithClearErrors() throws {
        func read(_ values: [String: String]) throws -> AppConfiguration {
            try AppConfiguration(
                reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)))
        }
        let configuration = try read([
            "STRIPE_APP_SECRETS": " absec_new ,absec_old\n", "PORT": "9000", "HOST": "0.0.0.0",
            "SIGNATURE_TOLERANCE_SECONDS": "120", "MAX_BODY_BYTES": "2048", "DATABASE_URL": "sqlite:/tmp/x.sqlite",
            "LOG_LEVEL": "debug", "STRIPE_APP_ID": "com.example.app", "EVENT_MAX_ATTEMPTS": "3",
            "EVENT_RETRY_BASE_SECONDS": "5", "EVENT_RETRY_MAX_SECONDS": "600", "EVENT_LEASE_SECONDS": "30",
            "EVENT_CONCURRENCY": "32", "INSTANCE_ID": "web-1", "DATABASE_POOL_SIZE": "4",
            "EVENT_HANDLER_TIMEOUT_SECONDS": "90", "HTTP_HEADER_TIMEOUT_SECONDS": "5",
            "HTTP_BODY_TIMEOUT_SECONDS": "20",
            "HTTP_IDLE_TIMEOUT_SECONDS": "30", "MAX_CONNECTIONS": "50", "DATABASE_PREPARED_STATEMENTS": "off",
        ])
        #expect(configuration.appSecrets?.secrets.count == 2)
        #expect(!configuration.isDevelopmentMode)
        #expect(configuration.port == 9000 && configuration.host == "0.0.0.0")
        #expect(configuration.signatureTolerance.seconds == 120)
        #expect(configuration.maximumBodyBytes == 2048)
        #expect(configuration.databaseURL == "sqlite:/tmp/x.sqlite")
        #expect(configuration.logLevel == .debug && configuration.appID == "com.example.app")
        #expect(configuration.eventMaxAttempts == 3)
        #expect(configuration.eventRetryPolicy.baseDelay == 5 && configuration.eventRetryPolicy.maximumDelay == 600)
        #expect(configuration.workerOptions.lease == .seconds(30) && configuration.workerOptions.concurrency == 32)
        #expect(configuration.workerOptions.owner == "web-1" && configuration.databasePoolSize == 4)
        #expect(configuration.workerOptions.handlerTimeout == .seconds(90))
        #expect(configuration.httpHeaderTimeoutSeconds == 5 && configuration.httpBodyTimeoutSeconds == 20)
        #expect(configuration.httpIdleTimeoutSeconds == 30 && configuration.maximumConnections == 50)
        #expect(!configuration.databasePreparedStatements)
        let defaults = try read([:])
        #expect(defaults.databasePreparedStatements)
        #expect(defaults.httpHeaderTimeoutSeconds == 10 && defaults.httpBodyTimeoutSeconds == 30)
        #expect(defaults.httpIdleTimeoutSeconds == 60 && defaults.maximumConnections == 1000)
        #expect(try read([:]).workerOptions.handlerTimeout == .seconds(300))
        #expect(try read([:]).workerOptions.owner.contains(":"), "host:pid:random by default")
        #expect(try read([:]).isDevelopmentMode)
        #expect(try read(["STRIPE_APP_SECRETS": ""]).isDevelopmentMode)

        for (variable, value) in [
            ("PORT", "http"), ("PORT", "70000"), ("SIGNATURE_TOLERANCE_SECONDS", "0"), ("MAX_BODY_BYTES", "-1"),
            ("LOG_LEVEL", "loud"), ("EVENT_MAX_ATTEMPTS", "0"), ("EVENT_LEASE_SECONDS", "1"),
            ("EVENT_CONCURRENCY", "0"), ("DATABASE_URL", "mysql://u@h/db"), ("DATABASE_URL", "postgres://h/db"),
            ("DATABASE_POOL_SIZE", "0"), ("EVENT_HANDLER_TIMEOUT_SECONDS", "0"),
            ("HTTP_HEADER_TIMEOUT_SECONDS", "0"), ("HTTP_BODY_TIMEOUT_SECONDS", "x"), ("MAX_CONNECTIONS", "0"),
            ("DATABASE_PREPARED_STATEMENTS", "sometimes"),
        ] {
            let error = #expect(throws: ConfigurationError.self) { try read([variable: value]) }
            #expect(error?.variable == variable)
        }
        // A trailing comma and newline, as pasted into an environment file, are tolerated.
        #expect(try read(["STRIPE_APP_SECRETS": "absec_x\n,"]).appSecrets?.secrets.count == 1)
    }

    @Test func gracefulShutdownLetsARequestInFlightFinish() async throws {
        let (arrived, arrivedSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        let (ports, portSignal) = AsyncStream<Int>.makeStream()
        let storage = InMemoryStorage()
        try await install(Tenant(accountID: "acct_a", mode: .test), in: storage)
        let app = try buildApplication(
            configuration: .testing(),
            storage: storage,
            hooks: ApplicationHooks(
                now: { testNow },
                onServerRunning: { portSignal.yield($0) },
                configureAPI: { api in
                    api.post("slow") { _, _ in
                        arrivedSignal.yield()
                        for await _ in release { break }
                        return Response.json(.string("finished"))
                    }
                }
            )
        )
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(await ports.first { _ in true })
            let signed = try signer.post(userID: "usr_u", accountID: "acct_a")
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/slow")
            request.method = .POST
            for field in signed.headers { request.headers.add(name: field.name.rawName, value: field.value) }
            request.body = .bytes(try #require(signed.body))
            let response = Task {
                // An answer that comes without the handler running (a 4xx) ends the wait below: the test fails
                // instead of waiting for an arrival that will never come.
                defer { arrivedSignal.finish() }
                return try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            }
            try #require(await arrived.first { _ in true } != nil, "the request reached the handler")
            await group.triggerGracefulShutdown()
            releaseSignal.yield()
            let answer = try await response.value
            #expect(answer.status.code == 200)
            #expect(String(buffer: try await answer.body.collect(upTo: 1024)) == #""finished""#)
            try await tasks.waitForAll()
        }
    }
}
