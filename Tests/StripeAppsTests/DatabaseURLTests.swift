import StripeApps
import Testing

@Suite struct DatabaseURLTests {
    @Test func sqliteForms() throws {
        #expect(try DatabaseURL("sqlite:stripe-apps.sqlite").sqlite?.path == "stripe-apps.sqlite")
        #expect(try DatabaseURL("sqlite:///var/db/x.sqlite").sqlite?.path == "/var/db/x.sqlite")
        let memory = try DatabaseURL("sqlite::memory:")
        #expect(memory.sqlite != nil && memory.sqlite?.path == nil && memory.postgres == nil)
        #expect(memory.description == "sqlite::memory:")
    }

    @Test func postgresFormsWithTheirDefaults() throws {
        let url = try DatabaseURL("postgres://app:s%40cret@db.internal:6432/stripe_apps?sslmode=verify-full")
        let postgres = try #require(url.postgres)
        #expect(url.sqlite == nil)
        #expect(postgres.host == "db.internal" && postgres.port == 6432)
        #expect(postgres.username == "app" && postgres.password == "s@cret")
        #expect(postgres.database == "stripe_apps" && postgres.sslMode == .verifyFull)
        #expect(!url.description.contains("cret"), "the password never shows")
        let plain = try #require(try DatabaseURL("postgresql://app@localhost/db").postgres)
        #expect(plain.port == 5432 && plain.password == nil && plain.sslMode == .prefer)
        let rooted = try DatabaseURL("postgres://a@h/d?sslmode=require&sslrootcert=/etc/ca.pem").postgres
        #expect(rooted?.sslMode == .require && rooted?.rootCertificatePath == "/etc/ca.pem")
    }

    @Test(arguments: [
        "mysql://u@h/db", "sqlite:", "postgres://h/db", "postgres://u@h", "postgres://u@h/db?sslmode=maybe",
        "postgres://u:pw@h/db?timeout=3", "", "stripe-apps.sqlite",
    ])
    func unusableURLsAreClearErrorsWithoutThePassword(_ text: String) {
        let error = #expect(throws: DatabaseURL.ParseError.self) { try DatabaseURL(text) }
        #expect(error?.problem.isEmpty == false)
        #expect(error?.problem.contains("pw") != true)
    }
}
