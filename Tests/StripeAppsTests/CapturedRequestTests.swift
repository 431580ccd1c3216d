import StripeApps
import Testing

@Suite struct CapturedRequestTests {
    func parse(_ text: String) throws -> CapturedRequest { try CapturedRequest(parsing: Array(text.utf8)) }

    @Test func aPostIsItsBodyCutToContentLength() throws {
        let request = try parse(
            "POST /api/whoami HTTP/1.1\r\nHost: x\r\nStripe-Signature: t=1,v1=ab\r\nContent-Length: 5\r\n\r\n{\"a\":1}\n"
        )
        #expect(request.method == "POST" && request.target == "/api/whoami")
        let signed = request.signed
        #expect(signed.payload == Array("{\"a\":".utf8))
        #expect(signed.header == "t=1,v1=ab")
        #expect(signed.purpose == .uiRequest)
        // Without Content-Length, every byte after the blank line is the body, a final newline included.
        let lf = try parse("POST /api/whoami HTTP/1.1\nStripe-Signature: t=1\n\n{}\n")
        #expect(lf.body == Array("{}\n".utf8))
    }

    @Test func aChunkedBodyIsDecoded() throws {
        let request = try parse(
            "POST /webhooks/test HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"id\r\n3;x=y\r\n\":1\r\n1\r\n}\r\n0\r\n\r\n"
        )
        #expect(request.signed.payload == Array("{\"id\":1}".utf8))
        #expect(request.signed.purpose == .webhook)
    }

    @Test func aGetIsRebuiltFromItsIdentityHeaders() throws {
        let request = try parse(
            "GET /api/settings HTTP/1.1\r\nstripe-signature: t=1,v1=a\r\nStripe-Signature: t=2\r\nStripe-User-Id: usr_1\r\n"
                + "Stripe-Account-Id: acct_1\r\nStripe-Mode: test\r\n\r\n")
        let signed = request.signed
        #expect(signed.payload == Array(#"{"mode":"test","user_id":"usr_1","account_id":"acct_1"}"#.utf8))
        #expect(signed.header == "t=1,v1=a,t=2", "two lines are joined, as HTTP joins them")
        #expect(signed.userID == "usr_1" && signed.accountID == "acct_1")
    }

    @Test func anInstallCallbackIsReadFromItsQueryDecodedOnce() throws {
        let request = try parse(
            "GET /install/callback?user_id=usr_1&account_id=acct_1&state=s%201&install_signature=t%3D1%2Cv1%3Dab "
                + "HTTP/1.1\r\n\r\n")
        let signed = request.signed
        #expect(signed.purpose == .installRedirect)
        #expect(signed.header == "t=1,v1=ab")
        #expect(signed.payload == Array(#"{"state":"s 1","user_id":"usr_1","account_id":"acct_1"}"#.utf8))
    }

    @Test(arguments: [
        "", "hello world", "GET /\r\n\r\n", "get / HTTP/1.1\r\n\r\n", "POST / HTTP/1.1\r\nNoColon\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ])
    func whatIsNotARequestIsRefusedWithAReason(_ text: String) {
        #expect(throws: CapturedRequest.ParseError.self) { try parse(text) }
    }
}
