import StripeApps
import Testing

@Suite struct PayloadTests {
    static let user = "usr_K6yd2CbXLO9A5G"
    static let account = "acct_1JSkf6FRwUQjTSJE"

    func vectorPayload(_ id: String) throws -> String {
        try #require(SignatureVectors.all.vectors.first { $0.id == id }).payload
    }

    @Test func defaultPayloadMatchesTV1() throws {
        #expect(try UIRequestPayload(userID: Self.user, accountID: Self.account).jsonString == vectorPayload("TV1"))
    }

    @Test func extraValuesComeFirstInOrderTV2() throws {
        let payload = try UIRequestPayload(
            userID: Self.user,
            accountID: Self.account,
            extra: [
                PayloadField("transaction_id", .string("ipi_1KRmFUFRwUQjTSJEjRnCCPyV")),
                PayloadField("amount", .number(100)),
                PayloadField("livemode", .bool(false)),
            ]
        )
        #expect(payload.jsonString == (try vectorPayload("TV2")))
    }

    @Test func rolesAreSignedAsStripeRolesTV3() throws {
        let payload = try UIRequestPayload(
            userID: Self.user,
            accountID: Self.account,
            roles: [StripeRole(type: "builtIn", name: "Administrator")]
        )
        #expect(payload.jsonString == (try vectorPayload("TV3")))
        let read = try UIRequestPayload(verifiedJSON: Array(vectorPayload("TV3").utf8))
        #expect(read.roles == [StripeRole(type: "builtIn", name: "Administrator")])
        #expect(read == payload)
    }

    @Test func nonASCIIIsRawUTF8TV7() throws {
        let payload = try UIRequestPayload(
            userID: Self.user,
            accountID: Self.account,
            extra: [PayloadField("note", .string("café"))]
        )
        #expect(payload.jsonString == (try vectorPayload("TV7")))
        // Reading the escaped form gives the same value, but it is the raw bytes that are verified.
        #expect(try UIRequestPayload(verifiedJSON: Array(vectorPayload("TV-N3").utf8)) == payload)
    }

    @Test func installPayloadMatchesTV4AndRequiresState() throws {
        let payload = try InstallRedirectPayload(
            state: "csrf_8f14e45fceea167a", userID: Self.user, accountID: Self.account)
        #expect(payload.jsonString == (try vectorPayload("TV4")))
        #expect(throws: SignatureError(.invalidPayload)) {
            try InstallRedirectPayload(state: "", userID: Self.user, accountID: Self.account)
        }
    }

    @Test func extraMayNotShadowIdentity() {
        for key in ["user_id", "account_id"] {
            #expect(throws: SignatureError(.invalidPayload)) {
                try UIRequestPayload(userID: "u", accountID: "a", extra: [PayloadField(key, .string("x"))])
            }
        }
        #expect(throws: SignatureError(.invalidPayload)) {
            try UIRequestPayload(
                userID: "u", accountID: "a", extra: [PayloadField("k", .null), PayloadField("k", .null)])
        }
    }

    @Test(arguments: [
        (100.0, "100"), (-0.0, "0"), (0.5, "0.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"), (0.000001, "0.000001"), (123.456, "123.456"), (-1e-7, "-1e-7"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (Double.leastNonzeroMagnitude, "5e-324"),
        (1e16, "10000000000000000"),
        (0.1 + 0.2, "0.30000000000000004"), (Double.nan, "null"),
    ])
    func numbersFollowJavaScript(_ value: Double, _ expected: String) {
        #expect(PayloadValue.number(value).jsonString == expected)
    }

    @Test func stringsEscapeLikeJSONStringify() {
        let value = PayloadValue.string("a\"b\\c\n\t\u{01}\u{1F}/\u{2028}é😀")
        #expect(value.jsonString == "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/\u{2028}é😀\"")
    }

    @Test func parserKeepsOrderAndRoundTripsCompactJSON() throws {
        let text = #"{"z":1,"a":[true,false,null,{"k":"v"}],"m":-2.5e-3,"s":"\u00e9\ud83d\ude00"}"#
        let value = try PayloadValue.parse(text)
        #expect(value.jsonString == #"{"z":1,"a":[true,false,null,{"k":"v"}],"m":-0.0025,"s":"é😀"}"#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "\"\u{01}\"", "{\"a\" 1}", "tru", "nul",
        "\"\\ud800\"", "[1] 2", "{\"a\":1,\"a\":2}",
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ])
    func parserRejectsInvalidJSON(_ text: String) {
        #expect(throws: SignatureError(.invalidPayload)) { try PayloadValue.parse(text) }
    }

    /// Bytes that are not UTF-8 inside a string: a lone continuation byte, an overlong `/`, an encoded
    /// surrogate, a value past U+10FFFF and a sequence cut short, alone and between valid text and escapes.
    @Test(
        arguments: [
            [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
        ] as [[UInt8]])
    func parserRejectsInvalidUTF8InStrings(_ bad: [UInt8]) {
        for (before, after) in [("", ""), ("ok", "ok"), ("\\n", "\\u00e9")] {
            let bytes = Array("{\"s\":\"\(before)".utf8) + bad + Array("\(after)\"}".utf8)
            #expect(throws: SignatureError(.invalidPayload)) { try PayloadValue.parse(bytes) }
        }
    }

    @Test func parserKeepsMultibyteTextAroundEscapes() throws {
        let value = try PayloadValue.parse(Array(#"{"s":"é\n日本\u00e9😀","":""}"#.utf8))
        #expect(value["s"] == .string("é\n日本é😀"))
        #expect(value[""] == .string(""))
    }

    @Test func verifiedJSONNeedsIdentity() {
        for text in [#"[]"#, #"{"user_id":"u"}"#, #"{"user_id":1,"account_id":"a"}"#] {
            #expect(throws: SignatureError(.invalidPayload)) { try UIRequestPayload(verifiedJSON: Array(text.utf8)) }
        }
    }

    @Test func stripeIDsArePrefixAndOneTo255IDCharacters() {
        let suffix255 = String(repeating: "a", count: 255)
        for valid in ["acct_1", "acct_" + suffix255, "acct_1AbC_9z"] {
            #expect(StripeID.isValid(valid, prefix: "acct_"), "\(valid.prefix(20))")
        }
        for invalid in [
            "", "acct_", "acct_" + suffix255 + "a", "acct", "usr_1", "acct_1-2", "acct_1 ", "acct_ü", "ACCT_1",
        ] {
            #expect(!StripeID.isValid(invalid, prefix: "acct_"), "\(invalid.prefix(20))")
        }
    }

    @Test func shapeValidationNamesTheFirstProblem() throws {
        func code(_ payload: UIRequestPayload) -> String? {
            do {
                try payload.validateShape()
                return nil
            } catch { return "\(error.code)" }
        }
        #expect(
            code(try UIRequestPayload(userID: "usr_1", accountID: "acct_1", roles: [.builtIn("Administrator")])) == nil)
        #expect(code(try UIRequestPayload(userID: "u", accountID: "a")) == "invalid_account_id")
        #expect(code(try UIRequestPayload(userID: "u", accountID: "acct_1")) == "invalid_user_id")
        let state = try UIRequestPayload(
            userID: "usr_1", accountID: "acct_1", extra: [PayloadField("state", .string("x"))])
        #expect(code(state) == "reserved_key")
        let roles = try UIRequestPayload(
            userID: "usr_1", accountID: "acct_1", extra: [PayloadField("stripe_roles", .array([.string("x")]))])
        #expect(code(roles) == "invalid_roles")
    }
}
